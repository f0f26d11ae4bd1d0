/**
 * Back fast after a restart: a Redis that replays an AOF answers LOADING for a while; the
 * manager must be usable within about a second of Redis serving again, not after ioredis'
 * default backoff (up to 2 s) and loading wait (its whole estimate, at least a second).
 */
import { randomUUID } from "node:crypto";
import { TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis-server.js";

const servers: RedisServer[] = [];
const managers: TaskManager[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
  await Promise.all(servers.splice(0).map((server) => server.dispose()));
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("reconnecting", () => {
  it("after a restart with an AOF to load, the first submit succeeds within 1.5 s of Redis serving again", async () => {
    const server = await startRedisServer({ aof: true });
    servers.push(server);
    const mill = new TaskManager({
      backend: { type: "redis", url: server.url, prefix: `back-${randomUUID().slice(0, 8)}` },
    });
    managers.push(mill);
    // An AOF worth replaying (tens of MB): loading takes a noticeable while.
    const pad = "x".repeat(200);
    for (let batch = 0; batch < 40; batch++)
      await mill.submitMany(
        Array.from({ length: 2_500 }, (_, i) => ({ name: "bulk", payload: { batch, i, pad } })),
      );

    await server.stop();
    // Down long enough for the client's reconnect backoff to grow.
    await sleep(3_000);
    await server.start(); // resolves once Redis answers PING: the AOF is loaded
    const back = Date.now();
    let submitted = false;
    while (!submitted && Date.now() - back < 10_000) {
      submitted = await mill.submit("bulk", { after: true }).then(
        () => true,
        () => false,
      );
      if (!submitted) await sleep(20);
    }
    expect(submitted).toBe(true);
    expect(Date.now() - back).toBeLessThan(1_500);
  }, 60_000);
});
