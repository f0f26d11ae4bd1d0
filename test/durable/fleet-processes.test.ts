/**
 * Fleet operations over real processes and a real redis-server (loopback only): an API process
 * (this one: a manager with no handlers behind the admin server) and worker processes running
 * the BUILT package (test/support/durable-worker.mjs). Only processes started here are
 * signalled, by pid.
 */
import { randomUUID } from "node:crypto";
import { createAdminServer, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { useRedis } from "../stores/redis/fixture.js";
import { startWorker, stopAll, type WorkerProcess } from "../support/worker-process.js";

const redis = useRedis();
const TOKEN = "fleet-write-token-0123456789";
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  await stopAll();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The API process: a manager without handlers and its admin server. */
async function apiProcess(prefix: string) {
  const mill = new TaskManager({
    retry: { maxRetries: 0 },
    backend: { type: "redis", url: redis.server().url, prefix, leaseMs: 2_000 },
    // How this process judges the registry: lost after 3 missed 100 ms heartbeats.
    registry: { heartbeatMs: 100, lostAfterMs: 300, dropAfterMs: 60_000 },
  });
  const server = await createAdminServer(mill, {
    auth: { tokens: [{ token: TOKEN, role: "write", name: "ops" }] },
  });
  cleanups.push(
    () => mill.stopNow(),
    () => server.close(),
  );
  const call = async (method: string, path: string) => {
    const reply = await fetch(server.url + path, {
      method,
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    return { status: reply.status, json: (await reply.json()) as Record<string, unknown> };
  };
  return { mill, call };
}

function workers(prefix: string, count: number, env: Record<string, string> = {}): WorkerProcess[] {
  return Array.from({ length: count }, (_, i) =>
    startWorker({
      url: redis.server().url,
      prefix,
      leaseMs: 2_000,
      behaviour: "work",
      label: `w${i + 1}`,
      concurrency: 2,
      env: { WORK_MS: "5", ...env },
    }),
  );
}

const starts = (all: WorkerProcess[]) => all.reduce((n, w) => n + w.of("start").length, 0);

async function until(predicate: () => boolean | Promise<boolean>, what: string, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe("fleet operations over real processes and real Redis", () => {
  it("a pause through the admin API of one process stops the claims of two worker processes; resume restarts them", async () => {
    const prefix = `fleet-pause-${randomUUID().slice(0, 8)}`;
    const { mill, call } = await apiProcess(prefix);
    const pool = workers(prefix, 2);
    await Promise.all(pool.map((w) => w.ready()));
    const before = await Promise.all(
      Array.from({ length: 8 }, (_, n) => mill.submit("job", { n })),
    );
    await Promise.all(before.map((task) => task.result()));
    expect(starts(pool)).toBe(8);

    const paused = await call("POST", "/v1/queues/default/pause");
    expect(paused.status).toBe(200);
    expect(paused.json.queue).toMatchObject({ name: "default", paused: true });
    const held = await Promise.all(Array.from({ length: 10 }, (_, n) => mill.submit("job", { n })));
    // A negative observation needs a wait: several claim round trips of both workers (each is
    // woken by every submit), far below anything that could pass by luck without the pause.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(starts(pool)).toBe(8);
    const queues = await call("GET", "/v1/queues");
    expect(queues.json.queues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "default", paused: true, depth: 10 }),
      ]),
    );
    for (const task of held) expect((await mill.get(task.id))?.status).toBe("queued");

    const resumedAt = Date.now();
    const resumed = await call("POST", "/v1/queues/default/resume");
    expect(resumed.status).toBe(200);
    expect(resumed.json.queue).toMatchObject({ paused: false });
    await Promise.all(held.map((task) => task.result()));
    console.info(
      `[fleet] resume to 10 held tasks done on 2 workers: ${Date.now() - resumedAt} ms (woken, no idle timeout)`,
    );
    expect(starts(pool)).toBe(18);
    for (const w of pool) expect(w.alive).toBe(true);
  });

  it("the registry shows three worker processes and marks a kill -9'ed one lost", async () => {
    const prefix = `fleet-registry-${randomUUID().slice(0, 8)}`;
    const { mill, call } = await apiProcess(prefix);
    const pool = workers(prefix, 3, { HEARTBEAT_MS: "100" });
    await Promise.all(pool.map((w) => w.ready()));
    const tasks = await Promise.all(
      Array.from({ length: 30 }, (_, n) => mill.submit("job", { n })),
    );
    await Promise.all(tasks.map((task) => task.result()));
    const pids = pool.map((w) => w.pid).sort();
    type Listed = { pid: number; state: string; processed: number; queues: string[] };
    const listed = async () =>
      ((await call("GET", "/v1/workers")).json.workers as Listed[]).sort((a, b) => a.pid - b.pid);
    await until(
      async () => (await listed()).reduce((n, w) => n + w.processed, 0) === 30,
      "three workers with every task counted",
    );
    const three = await listed();
    expect(three.map((w) => w.pid)).toEqual(pids);
    expect(three.every((w) => w.state === "alive" && w.queues.includes("default"))).toBe(true);

    const [victim, ...rest] = pool as [WorkerProcess, ...WorkerProcess[]];
    await victim.kill();
    const killedAt = Date.now();
    await until(
      async () => (await listed()).find((w) => w.pid === victim.pid)?.state === "lost",
      "the killed worker shown lost",
    );
    console.info(
      `[fleet] kill -9 to "lost" in GET /v1/workers: ${Date.now() - killedAt} ms (heartbeat 100 ms, lost after 300 ms)`,
    );
    const after = await listed();
    expect(after.map((w) => w.pid)).toEqual(pids);
    for (const w of after) expect(w.state).toBe(w.pid === victim.pid ? "lost" : "alive");

    // A graceful stop leaves the registry at once.
    const [leaving] = rest as [WorkerProcess];
    await leaving.stop();
    expect((await mill.workers()).map((w) => w.pid).sort()).toEqual(
      pids.filter((pid) => pid !== leaving.pid),
    );
  });
});
