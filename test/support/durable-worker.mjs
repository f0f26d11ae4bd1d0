/**
 * A durable-mode worker in its own Node process, for fault tests. It imports the BUILT package
 * (dist/, as a user's service would), registers one handler, `job`, whose behaviour is chosen
 * on the command line, and reports what happens as JSON lines on stdout.
 *
 *   node durable-worker.mjs <url> <prefix> <leaseMs> <behaviour>
 *   node durable-worker.mjs sqlite:<file> - <leaseMs> <behaviour>
 *
 * `url` is a redis:// URL (keys under <prefix>; several, comma-separated: a Redis Cluster
 * given by its seed nodes), a postgres:// URL (then <prefix> is the
 * schema), or "sqlite:<file>" for the SQLite database <file> (prefix unused).
 *
 * Behaviours of `job`:
 *   hang   reports "start", then never settles (ignores its signal): for kill -9.
 *   fast   reports "start", returns at once.
 *   work   reports "start", sleeps WORK_MS (default 50), reports "done", returns.
 *   signal reports "start", then waits until ctx.signal aborts and rejects with its reason.
 *   within Postgres: in one transaction, inserts (task_id, fence, pid) into OUT_TABLE, waits
 *          WORK_MS (default 20), blocks the event loop for STALL_MS in STALL_PCT % of
 *          attempts, then ctx.completeWithin(tx, value) and COMMIT; reports "committed", or
 *          "rolledback" with the error (a stale lease's StaleLeaseError) and rolls back.
 *   block  reports "start", lets stdout flush, then blocks the event loop with a synchronous
 *          busy-wait until at least MIN_BLOCK_MS passed and RELEASE_FILE exists (or
 *          MAX_BLOCK_MS passed), reports "done", returns.
 *   submit registers no handler: submits SUBMIT_COUNT tasks `job` { n } (SUBMIT_CONCURRENCY at
 *          a time, default 8) and reports {"type":"submitted",id,n} as each submit resolves
 *          (the store holds it), then {"type":"submitted-all"}, and idles: for kill -9.
 * Every handler returns `{ pid, label, n }` (`n` from the payload, when it has one).
 *
 * Environment: LABEL (default "worker"), CONCURRENCY (default 4), MAX_DELIVERIES (default 50),
 * HEARTBEAT_MS (the worker registry's heartbeat period, default taskmill's),
 * WORK_MS, MIN_BLOCK_MS (default 0), MAX_BLOCK_MS (default 20000), RELEASE_FILE,
 * STOP_TIMEOUT_MS (stopGraceful's timeoutMs on SIGTERM, default 2000), EXIT ("natural": after
 * the stop, let the process end by itself instead of calling process.exit), REDIS_LAYOUT
 * (`backend.layout`, default taskmill's), PARTITIONS (the "default" queue's partition count).
 *
 * Lines on stdout: {"type":"ready"}, {"type":"start",id,attempt}, {"type":"done",id,attempt},
 * {"type":"log",level,msg,taskId?,reason?} (taskmill's log lines about a task) and
 * {"type":"stopped",report,ms} (the StopReport and how long the stop took); every line also
 * carries `pid` and `label`.
 *
 * SIGTERM stops gracefully and exits; the process also exits when its stdin closes, so a dead
 * test runner never leaves it behind.
 */
import { existsSync } from "node:fs";

const { TaskManager } = await import(new URL("../../dist/index.js", import.meta.url).href);

const [url, prefix, leaseArg, behaviour] = process.argv.slice(2);
if (!url || !prefix || !leaseArg || !behaviour) {
  process.stderr.write("usage: durable-worker.mjs <redisUrl> <prefix> <leaseMs> <behaviour>\n");
  process.exit(2);
}
const env = process.env;
const label = env.LABEL ?? "worker";
const pid = process.pid;

function report(type, fields = {}) {
  process.stdout.write(`${JSON.stringify({ type, pid, label, ...fields })}\n`);
}

/** Forwards taskmill's log lines that concern a task; connection chatter is only counted. */
function logAt(level) {
  return (obj, msg) => {
    if (obj && typeof obj.taskId === "string")
      report("log", { level, msg, taskId: obj.taskId, reason: obj.reason });
  };
}

/** The backend a worker URL names: sqlite:<file>, postgres://... (schema <prefix>) or Redis. */
function backendOf(url) {
  const lease = { leaseMs: Number(leaseArg), maxDeliveries: Number(env.MAX_DELIVERIES ?? 50) };
  if (url.startsWith("sqlite:"))
    return { type: "sqlite", path: url.slice("sqlite:".length), ...lease };
  if (url.startsWith("postgres")) return { type: "postgres", url, schema: prefix, ...lease };
  const layout = env.REDIS_LAYOUT ? { layout: env.REDIS_LAYOUT } : {};
  // A comma-separated list of redis:// URLs: the seed nodes of a Redis Cluster.
  if (url.includes(",")) return { type: "redis", url: url.split(","), prefix, ...layout, ...lease };
  return { type: "redis", url, prefix, ...layout, ...lease };
}

const mill = new TaskManager({
  concurrency: Number(env.CONCURRENCY ?? 4),
  retry: { maxRetries: 0 },
  logger: { debug: () => {}, info: logAt("info"), warn: logAt("warn"), error: logAt("error") },
  backend: backendOf(url),
  ...(env.HEARTBEAT_MS ? { registry: { heartbeatMs: Number(env.HEARTBEAT_MS) } } : {}),
  ...(env.PARTITIONS ? { queues: { default: { partitions: Number(env.PARTITIONS) } } } : {}),
});

/** Postgres only: the pool the "within" behaviour runs its business transactions on. */
const business = behaviour === "within" ? await businessPool() : undefined;
async function businessPool() {
  const { default: pg } = await import("pg");
  const pool = new pg.Pool({ connectionString: url, max: Number(env.CONCURRENCY ?? 4) + 2 });
  pool.on("error", () => {});
  return pool;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

function busyWait() {
  const started = Date.now();
  const min = Number(env.MIN_BLOCK_MS ?? 0);
  const max = Number(env.MAX_BLOCK_MS ?? 20_000);
  const release = env.RELEASE_FILE;
  for (;;) {
    const elapsed = Date.now() - started;
    if (elapsed >= max) return elapsed;
    if (elapsed >= min && (release === undefined || existsSync(release))) return elapsed;
    // Synchronous on purpose: nothing else in this process runs meanwhile (timers, sockets).
    const until = Date.now() + 5;
    while (Date.now() < until) {}
  }
}

const handler = async (payload, ctx) => {
  const id = ctx.taskId;
  const attempt = ctx.attempt;
  report("start", { id, attempt });
  const value = { pid, label, n: payload?.n ?? null };
  switch (behaviour) {
    case "hang":
      return new Promise(() => {});
    case "fast":
      return value;
    case "signal":
      await new Promise((resolve) => ctx.signal.addEventListener("abort", resolve, { once: true }));
      throw ctx.signal.reason;
    case "work":
      await sleep(Number(env.WORK_MS ?? 50));
      report("done", { id, attempt });
      return value;
    case "within": {
      // One business row and the task's success in one transaction, fenced by ctx.fence; a
      // STALL_PCT share of attempts block the event loop for STALL_MS first (past the lease).
      const client = await business.connect();
      try {
        await client.query("BEGIN");
        await client.query(
          `INSERT INTO ${env.OUT_TABLE} (task_id, fence, pid) VALUES ($1, $2, $3)`,
          [id, ctx.fence, pid],
        );
        await sleep(Number(env.WORK_MS ?? 20));
        if (Math.random() * 100 < Number(env.STALL_PCT ?? 0)) {
          report("stall", { id, attempt, fence: ctx.fence });
          const until = Date.now() + Number(env.STALL_MS ?? 0);
          while (Date.now() < until) {}
        }
        await ctx.completeWithin(client, value);
        await client.query("COMMIT");
        report("committed", { id, attempt, fence: ctx.fence });
      } catch (error) {
        await client.query("ROLLBACK").catch(() => {});
        report("rolledback", {
          id,
          attempt,
          fence: ctx.fence,
          error: error?.name,
          reason: error?.reason,
        });
        throw error;
      } finally {
        client.release();
      }
      return value;
    }
    case "block": {
      await sleep(20);
      const blockedMs = busyWait();
      report("done", { id, attempt, blockedMs });
      return value;
    }
    default:
      throw new Error(`unknown behaviour ${behaviour}`);
  }
};
if (behaviour !== "submit") mill.register("job", handler);

/** Submits SUBMIT_COUNT tasks, SUBMIT_CONCURRENCY at a time, reporting each once stored. */
async function submitAll() {
  const total = Number(env.SUBMIT_COUNT ?? 1);
  let next = 0;
  const submitter = async () => {
    while (next < total) {
      const n = next++;
      const handle = await mill.submit("job", { n });
      report("submitted", { id: handle.id, n });
    }
  };
  await Promise.all(Array.from({ length: Number(env.SUBMIT_CONCURRENCY ?? 8) }, submitter));
  report("submitted-all");
}

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  const started = Date.now();
  const stopReport = await mill.stopGraceful({ timeoutMs: Number(env.STOP_TIMEOUT_MS ?? 2_000) });
  report("stopped", { report: stopReport, ms: Date.now() - started });
  if (env.EXIT !== "natural") process.exit(0);
  // Nothing of ours is left: the process ends once the handlers and stdin let go.
  process.stdin.pause();
  process.stdin.unref?.();
}
process.on("SIGTERM", () => void stop());
process.stdin.on("end", () => void stop());
process.stdin.on("error", () => void stop());
process.stdin.resume();

for (let i = 0; i < 500 && mill.health().status !== "connected"; i++) await sleep(20);
report("ready", { status: mill.health().status });
if (behaviour === "submit") await submitAll();
