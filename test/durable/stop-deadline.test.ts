/**
 * A stop ends on time whatever the store does. A real worker process holds running tasks whose
 * handlers wait for their signal; its Redis is then killed (`kill -9`), shut down (SIGTERM:
 * SHUTDOWN) or frozen (SIGSTOP: sockets open, nothing answered); then the worker gets SIGTERM
 * and calls `stopGraceful({ timeoutMs: 2000 })`. The stop must resolve within 2.5 s, report the
 * tasks it could not hand back as `unwritten` (nothing is lost: their leases lapse), and the
 * process must then exit by itself: no socket or timer of ours keeps it alive.
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";
import { startWorker, stopAll } from "../support/worker-process.js";

const servers: RedisServer[] = [];
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
  await Promise.all(servers.splice(0).map((server) => server.dispose()));
});

type Fault = "kill -9" | "shutdown" | "freeze";

const faults: Record<Fault, (server: RedisServer) => Promise<void>> = {
  "kill -9": (server) => server.kill(),
  shutdown: (server) => server.stop(),
  freeze: async (server) => server.freeze(),
};

/** A worker process holding two running tasks whose handlers wait for their signal. */
async function workerWithTwoRunningTasks(server: RedisServer, stopTimeoutMs: number) {
  const prefix = `stop-${randomUUID().slice(0, 8)}`;
  const worker = startWorker({
    url: server.url,
    prefix,
    leaseMs: 10_000,
    behaviour: "signal",
    label: "W",
    concurrency: 2,
    env: { EXIT: "natural", STOP_TIMEOUT_MS: String(stopTimeoutMs) },
  });
  await worker.ready();
  const producer = new TaskManager({ backend: { type: "redis", url: server.url, prefix } });
  producers.push(producer);
  const ids = await Promise.all([1, 2].map(async (n) => (await producer.submit("job", { n })).id));
  for (const id of ids) await worker.waitFor((r) => r.type === "start" && r.id === id);
  return { worker, producer, ids };
}

async function startServer(): Promise<RedisServer> {
  const server = await startRedisServer();
  servers.push(server);
  return server;
}

describe("stopGraceful({ timeoutMs: 2000 }) with Redis gone during the drain", () => {
  it.each(Object.keys(faults) as Fault[])(
    "Redis %s: the stop resolves within 2.5 s, reports the tasks as unwritten, and the process exits by itself",
    async (fault) => {
      const server = await startServer();
      const { worker, ids } = await workerWithTwoRunningTasks(server, 2_000);

      await faults[fault](server);
      worker.terminate();
      const stopped = await worker.waitFor((r) => r.type === "stopped", 10_000);

      expect(stopped.ms).toBeLessThan(2_500);
      expect(stopped.report?.escalated).toBe(true);
      expect([...(stopped.report?.unwritten ?? [])].sort()).toEqual([...ids].sort());
      expect(stopped.report?.requeued).toEqual([]);
      // Handlers honour their signal: none is left running.
      expect(stopped.report?.abandoned).toEqual([]);
      expect(await worker.exitedWithin(5_000)).toBe(true);
      expect(worker.exit).toEqual({ code: 0, signal: null });
    },
    30_000,
  );

  it("with Redis up, the same stop hands both tasks back at the deadline and nothing is unwritten", async () => {
    const server = await startServer();
    const { worker, producer, ids } = await workerWithTwoRunningTasks(server, 500);

    worker.terminate();
    const stopped = await worker.waitFor((r) => r.type === "stopped", 10_000);

    expect([...(stopped.report?.requeued ?? [])].sort()).toEqual([...ids].sort());
    expect(stopped.report?.unwritten).toEqual([]);
    expect(await worker.exitedWithin(5_000)).toBe(true);
    for (const id of ids) expect((await producer.get(id))?.status).toBe("retrying");
  }, 30_000);
});
