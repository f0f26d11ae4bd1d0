// Postgres mode: taskmill against pg-boss and graphile-worker on one PostgreSQL server that this
// script starts (127.0.0.1, a free port, fsync off) and stops, in one process and one run.
// `bench/run.mjs` runs it after the durable suite, in a child process; it also runs alone:
//
//   npm run build && node --expose-gc bench/postgres.mjs
//
// What it measures:
//   1. Throughput: 20,000 no-op jobs at concurrency 1, 16 and 64: enqueue everything (untimed),
//      then time a worker from its start until every job is recorded completed; jobs/s,
//      interleaved rounds (the starting library rotates), medians, ratios to pg-boss.
//   2. Latency: enqueue-to-start p50/p99 at a paced rate (default 500 jobs/s for 5 s) sent one
//      by one from this process, concurrency 16.
//   3. Claim latency with retained rows: taskmill's claim (its `step` function: the previous
//      claim's ack + a claim of 1, as a worker at concurrency 1 calls it) on a schema holding
//      1,000,000 finished rows (retention off, VACUUM ANALYZE after loading) against an empty
//      one, calls interleaved in blocks of 50; p50/p99 per schema.
//
// Environment:
//   TASKMILL_DIST=path           load taskmill from another build
//   BENCH_QUICK=1                2,000 jobs, 1 round, 1 s of latency, 20,000 retained rows
//   BENCH_PG_JOBS=n              jobs per throughput run (default 20,000)
//   BENCH_PG_REPS=n              throughput rounds (default 3)
//   BENCH_PG_CONCURRENCY=1,16    concurrencies (default 1,16,64)
//   BENCH_PG_RATE=n              offered jobs/s in the latency test (default 500)
//   BENCH_PG_LATENCY_MS=n        length of each latency run (default 5,000)
//   BENCH_PG_RETAINED=n          finished rows for the claim test (default 1,000,000)
//   BENCH_PG_SKIP=latency,claim  skip parts
//   BENCH_OUT=path               JSON output (default bench/results/postgres.json; quick runs
//                                bench/results/postgres-quick.tmp)
// Exit status 1 if a library errors; the targets are printed PASS/FAIL but do not fail the run.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { machineInfo, packageVersions } from "./lib/env.mjs";
import { machineLine, renderText } from "./lib/format.mjs";
import {
  graphileContender,
  pgBossContender,
  taskmillContender,
} from "./lib/postgres-contenders.mjs";
import { startPostgresServer } from "./lib/postgres-server.mjs";
import { median } from "./lib/stats.mjs";
import { loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const benchDir = dirname(fileURLToPath(import.meta.url));
const log = (line) => process.stderr.write(`${line}\n`);
const print = (text = "") => process.stdout.write(`${text}\n`);

function settingsOf(env) {
  const quick = env.BENCH_QUICK === "1";
  return {
    quick,
    jobs: Number(env.BENCH_PG_JOBS ?? (quick ? 2_000 : 20_000)),
    reps: Number(env.BENCH_PG_REPS ?? (quick ? 1 : 3)),
    concurrencies: (env.BENCH_PG_CONCURRENCY ?? "1,16,64").split(",").map(Number),
    rate: Number(env.BENCH_PG_RATE ?? 500),
    latencyMs: Number(env.BENCH_PG_LATENCY_MS ?? (quick ? 1_000 : 5_000)),
    latencyConcurrency: 16,
    retained: Number(env.BENCH_PG_RETAINED ?? (quick ? 20_000 : 1_000_000)),
    claims: quick ? 300 : 2_000,
    skip: new Set((env.BENCH_PG_SKIP ?? "").split(",").filter(Boolean)),
    out: resolve(
      benchDir,
      env.BENCH_OUT ?? `results/${quick ? "postgres-quick.tmp" : "postgres.json"}`,
    ),
  };
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

const gc = () => globalThis.gc?.();

async function throughput(contenders, settings) {
  const cases = [];
  for (const concurrency of settings.concurrencies) {
    const runs = new Map(contenders.map((c) => [c.name, []]));
    const errors = new Map();
    for (let rep = 0; rep < settings.reps; rep++) {
      const order = contenders.map((_, i) => contenders[(i + rep) % contenders.length]);
      for (const contender of order) {
        if (errors.has(contender.name)) continue;
        try {
          await contender.fresh();
          await contender.enqueue(settings.jobs);
          gc();
          const ms = await contender.drain(concurrency, settings.jobs);
          const rate = (settings.jobs / ms) * 1000;
          runs.get(contender.name).push(rate);
          log(`  c=${concurrency} round ${rep + 1} ${contender.name}: ${Math.round(rate)} jobs/s`);
        } catch (error) {
          errors.set(contender.name, error.message);
          log(`  c=${concurrency} ${contender.name} FAILED: ${error.stack ?? error.message}`);
        }
      }
    }
    cases.push({
      concurrency,
      results: contenders.map((c) => ({
        library: c.name,
        runs: runs.get(c.name).map(Math.round),
        jobsPerSec: runs.get(c.name).length ? Math.round(median(runs.get(c.name))) : null,
        error: errors.get(c.name),
      })),
    });
  }
  return { jobs: settings.jobs, reps: settings.reps, cases };
}

async function latency(contenders, settings) {
  const results = [];
  for (const contender of contenders) {
    try {
      await contender.fresh();
      gc();
      const samples = await contender.latency(
        settings.latencyConcurrency,
        settings.rate,
        settings.latencyMs,
      );
      results.push({
        library: contender.name,
        jobs: samples.length,
        p50: percentile(samples, 50),
        p99: percentile(samples, 99),
        max: Math.max(...samples),
      });
      log(`  latency ${contender.name}: p99 ${percentile(samples, 99)} ms`);
    } catch (error) {
      results.push({ library: contender.name, error: error.message });
    }
  }
  return {
    rate: settings.rate,
    ms: settings.latencyMs,
    concurrency: settings.latencyConcurrency,
    results,
  };
}

/** taskmill's claim on an empty schema vs one holding `retained` finished rows. */
async function claimLatency(pool, settings) {
  const dist = new URL("../dist/stores/postgres/", import.meta.url);
  const { migrate } = await import(new URL("migrations.js", dist).href);
  const { schemaNames } = await import(new URL("sql/names.js", dist).href);
  const schemas = {
    empty: schemaNames("bench_claim_empty"),
    retained: schemaNames("bench_claim_full"),
  };
  const client = await pool.connect();
  try {
    for (const names of Object.values(schemas)) {
      await client.query(`DROP SCHEMA IF EXISTS ${names.s} CASCADE`);
      await migrate(client, names);
    }
  } finally {
    client.release();
  }
  const { s } = schemas.retained;
  log(`  loading ${settings.retained} finished rows...`);
  const loadStarted = Date.now();
  for (let from = 1; from <= settings.retained; from += 250_000) {
    const to = Math.min(settings.retained, from + 249_999);
    await pool.query(
      `INSERT INTO ${s}.tasks (id, name, queue, status, seq, payload, created_at, started_at,
         finished_at, attempts, deliveries, token, value, outcome)
       SELECT 'done-' || i, 'noop', 'default', 'succeeded', nextval('${s}.seq'), '{}', i, i, i, 1,
         1, nextval('${s}.fence'), 'null', 'ack:' || i
       FROM generate_series($1::bigint, $2::bigint) i`,
      [from, to],
    );
  }
  await pool.query(`VACUUM ANALYZE ${s}.tasks`);
  await pool.query(`VACUUM ANALYZE ${schemas.empty.s}.tasks`);
  log(`  loaded in ${Math.round((Date.now() - loadStarted) / 1000)} s`);
  const enqueue = async (names, count) => {
    const tasks = Array.from({ length: count }, (_, i) => [
      `${names.schema}-${i}-${Math.random()}`,
      "noop",
      "default",
      "{}",
      0,
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
      "",
    ]);
    await pool.query(`SELECT ${names.s}.enqueue_many($1::jsonb)`, [JSON.stringify(tasks)]);
  };
  const state = {};
  for (const [key, names] of Object.entries(schemas)) {
    await enqueue(names, settings.claims + 10);
    state[key] = { names, last: undefined, samples: [] };
  }
  const claimOnce = async (entry) => {
    const acks =
      entry.last === undefined ? [[], [], []] : [[entry.last.id], [entry.last.token], [null]];
    const started = performance.now();
    const { rows } = await pool.query(
      `SELECT ${entry.names.s}.step($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) AS r`,
      [...acks, ["default"], 1, 30_000, 5, 1_000, 0, 0, "", []],
    );
    entry.samples.push(performance.now() - started);
    const task = rows[0].r.tasks[0];
    entry.last = task === undefined ? undefined : { id: task[0], token: String(task[4]) };
  };
  for (let done = 0; done < settings.claims; done += 50)
    for (const key of done % 100 === 0 ? ["empty", "retained"] : ["retained", "empty"])
      for (let i = 0; i < 50; i++) await claimOnce(state[key]);
  const summary = (samples) => ({
    claims: samples.length,
    p50: Math.round(percentile(samples, 50) * 1000) / 1000,
    p99: Math.round(percentile(samples, 99) * 1000) / 1000,
  });
  const empty = summary(state.empty.samples.slice(20));
  const retained = summary(state.retained.samples.slice(20));
  return {
    retainedRows: settings.retained,
    empty,
    retained,
    p99Ratio: Math.round((retained.p99 / empty.p99) * 100) / 100,
    p50Ratio: Math.round((retained.p50 / empty.p50) * 100) / 100,
  };
}

function printResults(results) {
  print(`\nMachine: ${machineLine(results)}`);
  print(
    `PostgreSQL ${results.postgres.version} (${results.postgres.config}); packages: ${Object.entries(
      results.packages,
    )
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
  );
  const t = results.throughput;
  if (t) {
    print(
      `\n-- Throughput: ${t.jobs} no-op jobs, median of ${t.reps} interleaved rounds, ratio = jobs/s ÷ pg-boss's --`,
    );
    const rows = [];
    for (const testCase of t.cases) {
      const boss = testCase.results.find((r) => r.library === "pg-boss")?.jobsPerSec;
      for (const r of testCase.results)
        rows.push([
          String(testCase.concurrency),
          r.library,
          r.error ? `ERROR ${r.error}` : String(r.jobsPerSec),
          boss && r.jobsPerSec ? `${(r.jobsPerSec / boss).toFixed(2)}x` : "",
          r.runs.join(" "),
        ]);
    }
    print(renderText(["concurrency", "library", "jobs/s", "vs pg-boss", "runs"], rows));
  }
  const l = results.latency;
  if (l) {
    print(
      `\n-- Enqueue-to-start latency: ${l.rate} jobs/s offered for ${l.ms} ms, concurrency ${l.concurrency} --`,
    );
    print(
      renderText(
        ["library", "jobs", "p50 ms", "p99 ms", "max ms"],
        l.results.map((r) =>
          r.error
            ? [r.library, "ERROR", r.error, "", ""]
            : [r.library, String(r.jobs), String(r.p50), String(r.p99), String(r.max)],
        ),
      ),
    );
  }
  const c = results.claim;
  if (c) {
    print(
      `\n-- taskmill claim (ack + claim 1) with ${c.retainedRows} finished rows retained vs an empty table --`,
    );
    print(
      renderText(
        ["table", "claims", "p50 ms", "p99 ms"],
        [
          ["empty", String(c.empty.claims), String(c.empty.p50), String(c.empty.p99)],
          [
            `${c.retainedRows} retained`,
            String(c.retained.claims),
            String(c.retained.p50),
            String(c.retained.p99),
          ],
        ],
      ),
    );
  }
  print("\nTargets:");
  for (const line of results.targets) print(`  ${line}`);
}

function targets(results) {
  const lines = [];
  for (const testCase of results.throughput?.cases ?? []) {
    const by = Object.fromEntries(testCase.results.map((r) => [r.library, r.jobsPerSec]));
    const tm = by.taskmill;
    if (tm && by["pg-boss"])
      lines.push(
        `c=${testCase.concurrency}: taskmill ${(tm / by["pg-boss"]).toFixed(2)}x pg-boss (target >= 2x): ${tm >= 2 * by["pg-boss"] ? "PASS" : "FAIL"}`,
      );
    if (tm && by["graphile-worker"])
      lines.push(
        `c=${testCase.concurrency}: taskmill ${(tm / by["graphile-worker"]).toFixed(2)}x graphile-worker (target > 1x): ${tm > by["graphile-worker"] ? "PASS" : "FAIL"}`,
      );
  }
  const c = results.claim;
  if (c)
    lines.push(
      `claim p99 with ${c.retainedRows} retained = ${c.p99Ratio}x the empty table's (target <= 1.5x): ${c.p99Ratio <= 1.5 ? "PASS" : "FAIL"}`,
    );
  return lines;
}

async function main() {
  const settings = settingsOf(process.env);
  const TaskManager = await loadTaskmill(taskmillSource(process.env));
  const server = await startPostgresServer();
  log(`PostgreSQL ${server.version} on ${server.url}`);
  const pool = new pg.Pool({ connectionString: server.url, max: 4 });
  pool.on("error", () => {});
  const { default: PgBoss } = await import("pg-boss");
  const graphile = await import("graphile-worker");
  const contenders = [
    taskmillContender(TaskManager, pool, server.url),
    await pgBossContender(PgBoss, server.url),
    await graphileContender(graphile, pool, server.url),
  ];
  const startedAt = Date.now();
  const machine = machineInfo();
  const results = {
    schemaVersion: 1,
    date: new Date().toISOString(),
    machine,
    postgres: { version: server.version, config: server.config },
    packages: packageVersions(["pg", "pg-boss", "graphile-worker"]),
    settings: { ...settings, skip: [...settings.skip], out: undefined },
  };
  let failed = false;
  try {
    log("Warm-up (unmeasured)...");
    for (const contender of contenders) {
      await contender.fresh();
      await contender.enqueue(Math.min(2_000, settings.jobs));
      await contender.drain(16, Math.min(2_000, settings.jobs));
    }
    log("Throughput...");
    results.throughput = await throughput(contenders, settings);
    if (!settings.skip.has("latency")) {
      log("Latency...");
      results.latency = await latency(contenders, settings);
    }
    if (!settings.skip.has("claim")) {
      log("Claim with retained rows...");
      results.claim = await claimLatency(pool, settings);
    }
    failed =
      results.throughput.cases.some((c) => c.results.some((r) => r.error)) ||
      (results.latency?.results ?? []).some((r) => r.error);
  } finally {
    for (const contender of contenders) await contender.close().catch(() => {});
    await pool.end().catch(() => {});
    // A peer's pool may still hold an idle client without an error listener: the server's
    // shutdown notice to it is not a failure of the run.
    process.on("uncaughtException", (error) => {
      if (!/terminating connection due to administrator command/.test(error?.message ?? ""))
        throw error;
    });
    await server.stop();
  }
  results.durationSec = Math.round((Date.now() - startedAt) / 1000);
  results.machine.loadAverage1mAtEnd = machineInfo().loadAverage1m;
  results.targets = targets(results);
  mkdirSync(dirname(settings.out), { recursive: true });
  writeFileSync(settings.out, `${JSON.stringify(results, null, 2)}\n`);
  printResults(results);
  log(`\nWrote ${settings.out} (${results.durationSec} s)`);
  process.exit(failed ? 1 : 0);
}

await main();
