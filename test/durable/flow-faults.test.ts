/**
 * Flows under crashes, with real processes against a real redis-server (loopback only): flows
 * of 20 nodes run by worker processes (the BUILT package, test/support/durable-worker.mjs) that
 * are killed with SIGKILL at random and replaced. Every flow must end, every node must have run
 * to completion at least once and been completed exactly once (one "succeeded" event), and no
 * node may have started before its dependencies ended. Only processes started here are
 * signalled, by pid; `npm test` builds first.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { type FlowHandle, type FlowNode, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { startWorker, stopAll, type WorkerProcess } from "../support/worker-process.js";

const redis = useRedis();
const producers: TaskManager[] = [];

afterEach(async () => {
  await stopAll();
  await Promise.all(producers.splice(0).map((mill) => mill.stopNow()));
});

const FLOWS = 8;
const NODES = 20;
const LEASE_MS = 400;

/** A random DAG of `NODES` nodes: each depends on up to 3 earlier ones. */
function randomFlow(flow: number): FlowNode[] {
  return Array.from({ length: NODES }, (_, i) => {
    const dependsOn = new Set<string>();
    for (let k = 0; k < 3 && i > 0; k++)
      if (Math.random() < 0.5) dependsOn.add(`n${Math.floor(Math.random() * i)}`);
    return { ref: `n${i}`, name: "job", payload: { n: flow * 100 + i }, dependsOn: [...dependsOn] };
  });
}

describe("flows under kill -9 (Redis, real processes)", () => {
  it("every flow of 20 nodes ends; every node ran to completion and was completed once", async () => {
    const server = redis.server();
    const prefix = `flow-faults-${randomUUID().slice(0, 8)}`;
    const producer = new TaskManager({
      retry: { maxRetries: 0 },
      backend: { type: "redis", url: server.url, prefix, leaseMs: LEASE_MS },
    });
    producers.push(producer);
    const workers: WorkerProcess[] = [];
    let started = 0;
    const spawn = async () => {
      const worker = startWorker({
        url: server.url,
        prefix,
        leaseMs: LEASE_MS,
        behaviour: "work",
        label: `w${started++}`,
        concurrency: 4,
        env: { WORK_MS: "40" },
      });
      workers.push(worker);
      await worker.ready();
    };
    await Promise.all([spawn(), spawn(), spawn()]);

    const flows: FlowHandle[] = [];
    const shapes = Array.from({ length: FLOWS }, (_, f) => randomFlow(f));
    for (const shape of shapes) flows.push(await producer.submitFlow(shape));

    // Kill a random live worker every ~250 ms and start a new one, 10 times: one with a task
    // in hand when there is one (on a loaded machine the flows may be nearly done by the time
    // the spawns let the later kills happen, and a kill of an idle worker proves nothing).
    const busy = (worker: WorkerProcess) => {
      const finished = new Set(worker.of("done").map((r) => r.id));
      return worker.of("start").some((r) => !finished.has(r.id));
    };
    for (let round = 0; round < 10; round++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      const live = workers.filter((worker) => worker.alive);
      const candidates = live.some(busy) ? live.filter(busy) : live;
      const victim = candidates[Math.floor(Math.random() * candidates.length)];
      await victim?.kill();
      await spawn();
    }

    const deadline = Date.now() + 60_000;
    for (const flow of flows)
      for (;;) {
        if ((await flow.status()).done) break;
        if (Date.now() > deadline) throw new Error(`flow ${flow.id} did not end in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }

    const done = new Set(workers.flatMap((worker) => worker.of("done").map((r) => r.id)));
    const client = new Redis(server.port, "127.0.0.1");
    try {
      const entries = (await client.xrange(`{${prefix}}:events`, "-", "+")) as Array<
        [string, string[]]
      >;
      const succeeded = new Map<string, number>();
      for (const [, fields] of entries) {
        const event = new Map<string, string>();
        for (let i = 0; i < fields.length; i += 2)
          event.set(fields[i] as string, fields[i + 1] as string);
        if (event.get("status") === "succeeded") {
          const id = event.get("id") as string;
          succeeded.set(id, (succeeded.get(id) ?? 0) + 1);
        }
      }
      for (const [f, flow] of flows.entries()) {
        const status = await flow.status();
        for (const node of status.nodes) {
          expect(node.status, `${flow.id} ${node.ref}`).toBe("succeeded");
          expect(done.has(node.id), `${node.ref} ran to completion`).toBe(true);
          expect(succeeded.get(node.id), `${node.ref} completed once`).toBe(1);
          const snapshot = await producer.get(node.id);
          for (const dep of shapes[f]?.find((n) => n.ref === node.ref)?.dependsOn ?? []) {
            const dependency = await producer.get(flow.tasks[dep]?.id as string);
            expect(
              (snapshot?.startedAt ?? 0) >= (dependency?.finishedAt ?? Number.POSITIVE_INFINITY),
              `${node.ref} started after ${dep} ended`,
            ).toBe(true);
          }
        }
      }
    } finally {
      client.disconnect();
    }
    // The kills really happened mid-task: some node was started by a worker killed before it
    // finished there (it then ran again elsewhere, and was still completed once).
    const killed = workers.filter((worker) => !worker.alive);
    expect(killed.length).toBeGreaterThanOrEqual(10);
    const cutShort = killed.flatMap((worker) => {
      const finished = new Set(worker.of("done").map((r) => r.id));
      return worker.of("start").filter((r) => !finished.has(r.id));
    });
    expect(cutShort.length).toBeGreaterThan(0);
  }, 120_000);
});
