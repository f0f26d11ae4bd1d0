// Where a taskmill durable worker spends its time: fills a fresh redis-server with N no-op jobs
// from a producer-only TaskManager, then drains them with one worker process run under
// `node --cpu-prof`, and prints the worker's jobs/s, its CPU profile (self time by module and
// function) and Redis's time per job by command over the drain.
//
//   npm run build && node bench/durable-profile.mjs
//
// Environment: TASKMILL_DIST (another build), BENCH_PROFILE_JOBS (default 20,000),
// BENCH_PROFILE_CONCURRENCY (default 64; a comma list runs several), BENCH_PROFILE_DIR (where
// the .cpuprofile files go, default .tmp/durable-profile; open them in Chrome DevTools).
import { spawn } from "node:child_process";
import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { profileText, summarizeProfile } from "./lib/cpuprofile.mjs";
import { RedisControl } from "./lib/durable-redis.mjs";
import { startRedisServer } from "./lib/redis-server.mjs";
import { loadTaskmill, taskmillSource } from "./lib/taskmill.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const jobs = Number(process.env.BENCH_PROFILE_JOBS ?? 20_000);
const concurrencies = (process.env.BENCH_PROFILE_CONCURRENCY ?? "64").split(",").map(Number);
const dir = resolve(root, process.env.BENCH_PROFILE_DIR ?? ".tmp/durable-profile");
const print = (text = "") => process.stdout.write(`${text}\n`);

const TaskManager = await loadTaskmill(taskmillSource(process.env));
const server = await startRedisServer();
const control = new RedisControl(server);

async function fill(prefix) {
  const producer = new TaskManager({ backend: { type: "redis", url: server.url, prefix } });
  const pending = [];
  for (let i = 0; i < jobs; i++) pending.push(producer.submit("noop", { i }));
  await Promise.all(pending);
  await producer.stopGraceful();
}

function runWorker(prefix, concurrency, profileDir) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(
      process.execPath,
      [
        `--cpu-prof`,
        `--cpu-prof-dir=${profileDir}`,
        join(root, "bench/lib/durable-profile-worker.mjs"),
      ],
      {
        env: {
          ...process.env,
          PROFILE_URL: server.url,
          PROFILE_PREFIX: prefix,
          PROFILE_JOBS: String(jobs),
          PROFILE_CONCURRENCY: String(concurrency),
        },
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    let out = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0
        ? resolvePromise(JSON.parse(out.trim()))
        : reject(new Error(`worker exited ${code}`)),
    );
  });
}

try {
  for (const concurrency of concurrencies) {
    const prefix = `profile-c${concurrency}`;
    const profileDir = join(dir, `c${concurrency}`);
    rmSync(profileDir, { recursive: true, force: true });
    mkdirSync(profileDir, { recursive: true });
    await control.flush();
    await fill(prefix);
    const before = await control.snapshot();
    const result = await runWorker(prefix, concurrency, profileDir);
    const after = await control.snapshot();
    const file = join(
      profileDir,
      readdirSync(profileDir).find((f) => f.endsWith(".cpuprofile")),
    );
    print(`\n=== taskmill worker, ${jobs} no-op jobs prefilled, concurrency ${concurrency} ===`);
    print(
      `${result.jobsPerSec} jobs/s (${result.processMs} ms), worker CPU ${result.cpuUsPerJob} µs/job, ` +
        `handler calls ${result.handled}`,
    );
    const redis = RedisControl.perJob(before, after, jobs);
    print(
      `Redis: ${redis.redisCpuUsPerJob} µs CPU/job, ${redis.commandsPerJob} commands/job ` +
        `(${redis.scriptsPerJob} script calls), ${redis.netBytesPerJob} bytes/job`,
    );
    print("Redis time per job by command (a script's time includes the commands it ran):");
    for (const c of RedisControl.byCommand(before, after, jobs, 20))
      print(
        `  ${c.command.padEnd(16)} ${c.callsPerJob.toFixed(3).padStart(7)} calls  ${c.usPerJob.toFixed(2).padStart(7)} µs`,
      );
    print(`\nWorker CPU profile: ${file}`);
    print(profileText(summarizeProfile(file, { top: 30 })));
  }
} finally {
  await control.quit().catch(() => {});
  await server.stop();
}
process.exit(0);
