// SQLite mode beside Redis mode with AOF, in one process and one run: what durability costs.
// Every submit measured here resolves only once the task is on disk:
//   sqlite            WAL, synchronous = FULL: the commit fsyncs; concurrent submits share one
//                     commit (group commit)
//   redis always      AOF with appendfsync always: Redis fsyncs before it replies
//   redis everysec    AOF with appendfsync everysec: Redis replies before the fsync (up to ~1 s
//                     of acknowledged submits can be lost in a crash of the machine): for scale
// `bench/run.mjs` runs it after the durable suite, in a child process; it also runs alone:
//
//   npm run build && node bench/sqlite.mjs
//
// What it measures, per store, in interleaved rounds (median reported):
//   1. submits/s with 1 submitter (each submit awaited before the next);
//   2. submits/s with 64 concurrent submitters (each awaiting its own submit);
//   3. jobs/s at concurrency 1 and 16: N no-op tasks stored first, then one worker manager runs
//      them all (counted by the onFinish hook).
//
// Environment:
//   BENCH_QUICK=1                 1/10 of the work, 1 round: a smoke test
//   BENCH_SQLITE_REPS=n           rounds (default 3)
//   BENCH_SQLITE_SUBMITS=n        submits per submit run with 64 submitters (default 20,000;
//                                 a tenth of it with 1 submitter)
//   BENCH_SQLITE_JOBS=n           jobs per jobs/s run (default 20,000)
//   BENCH_SQLITE_SKIP_REDIS=1     SQLite only (also when redis-server is not on PATH)
//   BENCH_OUT=path                where to write the JSON (default bench/results/sqlite.json)
//
// Targets (issue 14): >= 5,000 fsynced submits/s with concurrent submitters, >= 10,000 jobs/s
// at concurrency 16 on SQLite. Printed PASS/FAIL; they do not fail the run. Exit status 1 if a
// run errors or a job is lost or run twice.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { machineInfo } from "./lib/env.mjs";
import { renderText } from "./lib/format.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const env = process.env;
const quick = env.BENCH_QUICK === "1";
const settings = {
  quick,
  reps: Number(env.BENCH_SQLITE_REPS ?? (quick ? 1 : 3)),
  submits: Number(env.BENCH_SQLITE_SUBMITS ?? (quick ? 2_000 : 20_000)),
  jobs: Number(env.BENCH_SQLITE_JOBS ?? (quick ? 2_000 : 20_000)),
  submitters: 64,
  out: resolve(
    benchDir,
    env.BENCH_OUT ?? (quick ? "results/sqlite-quick.tmp" : "results/sqlite.json"),
  ),
};
const TARGETS = { submits64: 5_000, jobs16: 10_000 };
const log = (line) => process.stderr.write(`${line}\n`);

const TaskManager = await loadTaskmill(taskmillSource(env));
const scratch = mkdtempSync(join(tmpdir(), "taskmill-bench-sqlite-"));
let fresh = 0;

/** The stores, each a factory of a fresh namespace (a new file, a new prefix). */
async function stores() {
  const list = [
    { name: "sqlite", backend: () => ({ type: "sqlite", path: join(scratch, `b${++fresh}.db`) }) },
  ];
  const servers = [];
  const hasRedis = spawnSync("redis-server", ["--version"], { stdio: "ignore" }).status === 0;
  if (env.BENCH_SQLITE_SKIP_REDIS !== "1" && hasRedis) {
    for (const fsync of ["always", "everysec"]) {
      const server = await startRedisServer(["--appendonly", "yes", "--appendfsync", fsync]);
      servers.push(server);
      list.push({
        name: `redis ${fsync}`,
        backend: () => ({ type: "redis", url: server.url, prefix: `bench-${++fresh}` }),
      });
    }
  } else log("  redis-server not used (BENCH_SQLITE_SKIP_REDIS=1 or not on PATH)");
  return { list, stop: () => Promise.all(servers.map((server) => server.stop())) };
}

async function open(backend, options = {}) {
  const mill = new TaskManager({ retry: { maxRetries: 0 }, backend, ...options });
  await mill.queues(); // connected
  return mill;
}

async function submitRun(backend, submitters, total) {
  const mill = await open(backend);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: submitters }, async () => {
      while (next < total) {
        const n = next++;
        await mill.submit("noop", { n });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await mill.stopNow();
  return { perSecond: Math.round(total / seconds), count: total };
}

async function jobsRun(backend, concurrency, total) {
  const producer = await open(backend);
  for (let start = 0; start < total; start += 1_000) {
    const batch = Array.from({ length: Math.min(1_000, total - start) }, (_, i) => ({
      name: "noop",
      payload: { n: start + i },
    }));
    await producer.submitMany(batch);
  }
  await producer.stopNow();
  const seen = new Uint8Array(total);
  let finished = 0;
  let duplicates = 0;
  let done;
  const allDone = new Promise((resolve) => {
    done = resolve;
  });
  const worker = await open(backend, {
    concurrency,
    hooks: {
      onFinish: () => {
        if (++finished === total) done();
      },
    },
  });
  const started = performance.now();
  worker.register("noop", async ({ n }) => {
    if (seen[n] === 1) duplicates++;
    seen[n] = 1;
  });
  const timeout = setTimeout(() => done(), 120_000);
  await allDone;
  clearTimeout(timeout);
  const seconds = (performance.now() - started) / 1000;
  await worker.stopGraceful({ timeoutMs: 5_000 });
  const ran = seen.reduce((sum, x) => sum + x, 0);
  const error =
    ran !== total
      ? `${total - ran} jobs did not run`
      : duplicates > 0
        ? `${duplicates} jobs ran twice`
        : undefined;
  return { perSecond: Math.round(total / seconds), count: total, ...(error ? { error } : {}) };
}

const CASES = [
  {
    id: "submit1",
    title: "submits/s, 1 submitter",
    run: (b) => submitRun(b, 1, Math.max(100, Math.round(settings.submits / 10))),
  },
  {
    id: "submit64",
    title: `submits/s, ${settings.submitters} submitters`,
    run: (b) => submitRun(b, settings.submitters, settings.submits),
  },
  {
    id: "jobs1",
    title: "jobs/s, concurrency 1",
    run: (b) => jobsRun(b, 1, Math.max(100, Math.round(settings.jobs / 4))),
  },
  { id: "jobs16", title: "jobs/s, concurrency 16", run: (b) => jobsRun(b, 16, settings.jobs) },
];

function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main() {
  const machine = machineInfo();
  const startedAt = Date.now();
  const { list, stop } = await stores();
  const samples = {};
  const errors = [];
  try {
    for (let round = 0; round < settings.reps; round++) {
      for (const testCase of CASES) {
        // Rotate the first store every round: none always runs on a cold or warm machine.
        for (let k = 0; k < list.length; k++) {
          const store = list[(k + round) % list.length];
          log(`  round ${round + 1}/${settings.reps}: ${store.name}, ${testCase.title}`);
          try {
            const result = await testCase.run(store.backend());
            if (result.error) errors.push(`${store.name} ${testCase.id}: ${result.error}`);
            samples[store.name] ??= {};
            samples[store.name][testCase.id] ??= [];
            samples[store.name][testCase.id].push(result.perSecond);
          } catch (error) {
            errors.push(`${store.name} ${testCase.id}: ${error.message}`);
          }
        }
      }
    }
  } finally {
    await stop();
    rmSync(scratch, { recursive: true, force: true });
  }
  const table = list.map((store) => ({
    store: store.name,
    ...Object.fromEntries(CASES.map((c) => [c.id, median(samples[store.name]?.[c.id] ?? [0])])),
  }));
  const sqlite = table.find((row) => row.store === "sqlite");
  const targets = {
    submits64: {
      target: TARGETS.submits64,
      value: sqlite.submit64,
      pass: sqlite.submit64 >= TARGETS.submits64,
    },
    jobs16: { target: TARGETS.jobs16, value: sqlite.jobs16, pass: sqlite.jobs16 >= TARGETS.jobs16 },
  };
  const results = {
    schemaVersion: 1,
    date: new Date().toISOString(),
    durationSec: Math.round((Date.now() - startedAt) / 1000),
    machine: { ...machine, loadAverage1mAtEnd: machineInfo().loadAverage1m },
    settings,
    samples,
    table,
    targets,
    errors,
  };
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  const print = (text = "") => process.stdout.write(`${text}\n`);
  print(
    `\nSQLite vs Redis with AOF: median of ${settings.reps} interleaved rounds; every submit durable when it resolves (redis everysec: written, fsynced within ~1 s)`,
  );
  print(
    renderText(
      ["store", ...CASES.map((c) => c.title)],
      table.map((row) => [row.store, ...CASES.map((c) => String(row[c.id]))]),
    ),
  );
  for (const [name, t] of Object.entries(targets))
    print(`target ${name}: sqlite ${t.value}/s vs >= ${t.target}/s: ${t.pass ? "PASS" : "FAIL"}`);
  for (const error of errors) print(`ERROR ${error}`);
  log(`Wrote ${settings.out} (${results.durationSec} s)`);
  process.exit(errors.length > 0 ? 1 : 0);
}

await main();
