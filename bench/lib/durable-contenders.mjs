// Adapters that give taskmill (durable mode), BullMQ and bee-queue the same shape, so the
// durable suite stays library-agnostic:
//
//   open({ host, port, url, prefix, concurrency, handler, onCompleted }) -> Promise<queue>
//   queue.submit(payload)   enqueues one job; resolves once Redis holds it
//   queue.start()           starts processing (before that, submitted jobs only wait)
//   queue.close()           stops the worker and closes every connection; not timed
//
// `handler(payload)` is called synchronously at the start of each job (it only counts, or
// stamps the start time); the job function itself is `async` and returns nothing.
// `onCompleted(payload)` is called once per job whose success is written to Redis, as each library
// reports it in the worker: BullMQ's worker `completed` event and bee-queue's `succeeded` event
// fire after the completion script / MULTI returned; taskmill's `onFinish` hook fires once the
// ack's script call returned and Redis took the ack (a refused ack fires nothing). No library
// reads its cross-process event stream here (BullMQ's QueueEvents, taskmill's results stream):
// the signal is local to the worker, as in a worker pool whose results nobody awaits.
//
// Settings (see bench/README.md, "Durable mode"):
//   taskmill   one TaskManager per run that both submits and works (no separate producer
//              manager: that would read the results stream twice in one process); default
//              retention (10,000 finished records), maxRetries 0, default lease.
//   BullMQ     a Queue (producer) and a Worker (autorun: false, started by start()) on their
//              own connections; attempts 1, removeOnComplete { count: 10000 } to keep the same
//              number of finished records as taskmill; everything else default.
//   bee-queue  one Queue that submits and works; storeJobs and getEvents off (no local job map,
//              no pub/sub subscriber), sendEvents on (a result message per job, as taskmill's
//              stream entry); removeOnSuccess false (its default: finished jobs are kept).

const QUEUE = "bench";
const GRACEFUL_TIMEOUT_MS = 30_000;

export const BASELINE = "bullmq";

async function optionalImport(name) {
  try {
    return await import(name);
  } catch (error) {
    return { missing: error instanceof Error ? error.message : String(error) };
  }
}

function taskmill(TaskManager) {
  return {
    name: "taskmill",
    async open({ url, prefix, concurrency, handler, onCompleted }) {
      // The hook's snapshot carries no payload: the handler leaves it here for the hook (as
      // BullMQ's and bee-queue's completion events hand back the job's data).
      const payloads = new Map();
      const mill = new TaskManager({
        concurrency,
        retry: { maxRetries: 0 },
        backend: { type: "redis", url, prefix },
        hooks: {
          onFinish: ({ task }) => {
            const payload = payloads.get(task.id);
            payloads.delete(task.id);
            onCompleted(payload);
          },
        },
      });
      // Resolves once connected.
      await mill.queues();
      return {
        submit: (payload) => mill.submit("noop", payload),
        start: () =>
          mill.register("noop", async (payload, ctx) => {
            payloads.set(ctx.taskId, payload);
            handler(payload);
          }),
        close: () => mill.stopGraceful({ timeoutMs: GRACEFUL_TIMEOUT_MS }),
      };
    },
  };
}

function bullmq({ Queue, Worker }) {
  return {
    name: "bullmq",
    async open({ host, port, prefix, concurrency, handler, onCompleted }) {
      const connection = { host, port, maxRetriesPerRequest: null };
      const queue = new Queue(QUEUE, {
        connection,
        prefix,
        defaultJobOptions: { attempts: 1, removeOnComplete: { count: 10_000 } },
      });
      const worker = new Worker(
        QUEUE,
        async (job) => {
          handler(job.data);
        },
        { connection, prefix, concurrency, autorun: false },
      );
      const errors = [];
      worker.on("error", (error) => errors.push(error));
      queue.on("error", (error) => errors.push(error));
      worker.on("completed", (job) => onCompleted(job.data));
      await queue.waitUntilReady();
      await worker.waitUntilReady();
      let running;
      return {
        submit: (payload) => queue.add("noop", payload),
        start: () => {
          running = worker.run();
          running.catch((error) => errors.push(error));
        },
        close: async () => {
          await worker.close();
          await queue.close();
          await running;
          if (errors.length > 0) throw errors[0];
        },
      };
    },
  };
}

function beeQueue(BeeQueue) {
  return {
    name: "bee-queue",
    async open({ host, port, prefix, concurrency, handler, onCompleted }) {
      const queue = new BeeQueue(QUEUE, {
        redis: { host, port },
        prefix,
        isWorker: true,
        getEvents: false,
        sendEvents: true,
        storeJobs: false,
        removeOnSuccess: false,
        activateDelayedJobs: false,
      });
      const errors = [];
      queue.on("error", (error) => errors.push(error));
      queue.on("succeeded", (job) => onCompleted(job.data));
      await queue.ready();
      return {
        submit: (payload) => queue.createJob(payload).save(),
        start: () => {
          queue.process(concurrency, async (job) => {
            handler(job.data);
          });
        },
        close: async () => {
          await queue.close(GRACEFUL_TIMEOUT_MS);
          if (errors.length > 0) throw errors[0];
        },
      };
    },
  };
}

/**
 * The contenders that load, in a fixed order (taskmill, BullMQ, bee-queue), and the peers that
 * could not be loaded, with the reason (a peer that does not install is skipped, not fatal).
 */
export async function durableContenders({ TaskManager, BaselineTaskManager, only }) {
  const contenders = [];
  const skipped = [];
  if (TaskManager) contenders.push(taskmill(TaskManager));
  if (BaselineTaskManager)
    contenders.push({ ...taskmill(BaselineTaskManager), name: "taskmill@baseline" });
  const bull = await optionalImport("bullmq");
  if (bull.missing) skipped.push({ library: "bullmq", reason: bull.missing });
  else contenders.push(bullmq(bull));
  const bee = await optionalImport("bee-queue");
  if (bee.missing) skipped.push({ library: "bee-queue", reason: bee.missing });
  else contenders.push(beeQueue(bee.default ?? bee));
  const selected = only ? contenders.filter((c) => only.includes(c.name)) : contenders;
  return { contenders: selected, skipped };
}
