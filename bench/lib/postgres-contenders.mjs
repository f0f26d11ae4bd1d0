// The Postgres suite's contenders, one interface each, all on the same server:
//   fresh()              a new, empty queue (schema for taskmill), outside the timing
//   enqueue(count)       count no-op jobs in batches of 1,000, outside the timing
//   drain(c, total)      start a worker at concurrency c, resolve when every job is done
//                        (handled AND recorded as completed in the database); ms elapsed
//   latency(c, rate, ms) jobs sent one by one at `rate`/s from this process while a worker at
//                        concurrency c runs; per job, handler start - submit time (ms)
// Configuration of the peers (each its fastest documented way without tuning internals):
//   pg-boss 10 (newest for Node 20): its work() waits pollingInterval (>= 0.5 s) between fetches
//     even with a backlog, so the worker here is its documented fetch()/complete() loop: fetch
//     up to c jobs, run them concurrently, complete them in one call, fetch again at once while
//     jobs come back; when the queue is empty it waits 0.5 s (its minimum polling interval).
//     supervise/schedule off (no maintenance timers during runs).
//   graphile-worker 0.17 (newest for Node 20): run({ concurrency: c }) with its defaults
//     (LISTEN/NOTIFY, one job per fetch per slot).
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(check, everyMs = 10, timeoutMs = 300_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the jobs to complete");
    await sleep(everyMs);
  }
}

/** Paced submits: `rate` per second for `ms`, in ticks of 10 ms. */
async function paced(rate, ms, send) {
  const started = Date.now();
  let sent = 0;
  const pending = [];
  while (Date.now() - started < ms) {
    const due = Math.floor(((Date.now() - started) * rate) / 1000);
    for (; sent < due; sent++) pending.push(send({ t: Date.now() }));
    await sleep(10);
  }
  await Promise.all(pending);
  return sent;
}

export function taskmillContender(TaskManager, pool, url) {
  let round = 0;
  let schema;
  let producer;
  const backend = () => ({ type: "postgres", url, schema, leaseMs: 30_000 });
  return {
    name: "taskmill",
    async fresh() {
      await producer?.stopNow();
      schema = `bench_tm_${++round}`;
      producer = new TaskManager({ backend: backend() });
      await producer.submitMany([]);
      await producer.list({ limit: 1 });
    },
    async enqueue(count) {
      for (let i = 0; i < count; i += 1_000)
        await producer.submitMany(
          Array.from({ length: Math.min(1_000, count - i) }, () => ({ name: "noop", payload: {} })),
        );
    },
    async drain(concurrency, total) {
      let handled = 0;
      const worker = new TaskManager({ concurrency, backend: backend() });
      const started = Date.now();
      worker.register("noop", () => {
        handled++;
      });
      await until(() => handled >= total, 2);
      // Recorded: no task left unfinished (retention may already have evicted the oldest).
      await until(async () => {
        const { rows } = await pool.query(
          `SELECT count(*)::int AS n FROM ${schema}.tasks
           WHERE status IN ('queued','scheduled','running','retrying')`,
        );
        return rows[0].n === 0;
      });
      const ms = Date.now() - started;
      await worker.stopGraceful();
      return ms;
    },
    async latency(concurrency, rate, ms) {
      const samples = [];
      const worker = new TaskManager({ concurrency, backend: backend() });
      worker.register("noop", (payload) => {
        samples.push(Date.now() - payload.t);
      });
      await worker.list({ limit: 1 });
      const sent = await paced(rate, ms, (payload) => producer.submit("noop", payload));
      await until(() => samples.length >= sent);
      await worker.stopGraceful();
      return samples;
    },
    async close() {
      await producer?.stopNow();
    },
  };
}

export async function pgBossContender(PgBoss, url) {
  const boss = new PgBoss({
    connectionString: url,
    schema: "pgboss",
    max: 10,
    supervise: false,
    schedule: false,
  });
  boss.on("error", () => {});
  await boss.start();
  let round = 0;
  let queue;
  /** The fetch/complete loop; stops when `done()` says so. */
  async function work(concurrency, onJob, done) {
    while (!done()) {
      const jobs = await boss.fetch(queue, { batchSize: concurrency });
      if (jobs.length === 0) {
        await sleep(500);
        continue;
      }
      await Promise.all(jobs.map(async (job) => onJob(job)));
      await boss.complete(
        queue,
        jobs.map((job) => job.id),
      );
    }
  }
  return {
    name: "pg-boss",
    async fresh() {
      queue = `bench_${++round}`;
      await boss.createQueue(queue);
    },
    async enqueue(count) {
      for (let i = 0; i < count; i += 1_000)
        await boss.insert(
          Array.from({ length: Math.min(1_000, count - i) }, () => ({ name: queue, data: {} })),
        );
    },
    async drain(concurrency, total) {
      let handled = 0;
      const started = Date.now();
      // The loop checks after each complete(): at its end every job is recorded as completed.
      await work(
        concurrency,
        () => {
          handled++;
        },
        () => handled >= total,
      );
      return Date.now() - started;
    },
    async latency(concurrency, rate, ms) {
      const samples = [];
      let stop = false;
      const loop = work(
        concurrency,
        (job) => samples.push(Date.now() - job.data.t),
        () => stop,
      );
      const sent = await paced(rate, ms, (data) => boss.send(queue, data));
      await until(() => samples.length >= sent);
      stop = true;
      await loop;
      return samples;
    },
    async close() {
      await boss.stop({ graceful: false, wait: true }).catch(() => {});
    },
  };
}

export async function graphileContender(graphile, pool, url) {
  const { run, makeWorkerUtils, Logger } = graphile;
  const logger = new Logger(() => () => {});
  const utils = await makeWorkerUtils({ connectionString: url, logger });
  await utils.migrate();
  let round = 0;
  let task;
  const runner = (concurrency, fn) =>
    run({
      connectionString: url,
      concurrency,
      noHandleSignals: true,
      pollInterval: 2_000,
      logger,
      taskList: { [task]: fn },
    });
  return {
    name: "graphile-worker",
    async fresh() {
      task = `noop_${++round}`;
    },
    async enqueue(count) {
      for (let i = 0; i < count; i += 1_000)
        await utils.addJobs(
          Array.from({ length: Math.min(1_000, count - i) }, () => ({
            identifier: task,
            payload: {},
          })),
        );
    },
    async drain(concurrency, total) {
      let handled = 0;
      const started = Date.now();
      const worker = await runner(concurrency, async () => {
        handled++;
      });
      await until(() => handled >= total, 2);
      // Completed jobs are deleted: done when none of this round's is left.
      await until(async () => {
        const { rows } = await pool.query(
          "SELECT count(*)::int AS n FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id WHERE t.identifier = $1",
          [task],
        );
        return rows[0].n === 0;
      });
      const ms = Date.now() - started;
      await worker.stop();
      return ms;
    },
    async latency(concurrency, rate, ms) {
      const samples = [];
      const worker = await runner(concurrency, async (payload) => {
        samples.push(Date.now() - payload.t);
      });
      const sent = await paced(rate, ms, (payload) => utils.addJob(task, payload));
      await until(() => samples.length >= sent);
      await worker.stop();
      return samples;
    },
    async close() {
      await utils.release();
    },
  };
}
