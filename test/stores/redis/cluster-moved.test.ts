/**
 * A Redis Cluster node that does not serve the prefix's slot answers every command with MOVED.
 * Pointed at one, a manager must say so at once, as an option error naming the URL, not time
 * out as "no answer". Two real cluster-enabled redis-servers: one owns every slot, the other
 * joins it and owns none.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { InvalidOptionError, TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../../support/redis-server.js";

const clusterArgs = ["--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf"];
let owner: RedisServer;
let stranger: RedisServer;
const clients: Redis[] = [];
const managers: TaskManager[] = [];

function client(server: RedisServer): Redis {
  const redis = new Redis(server.port, "127.0.0.1", { lazyConnect: false });
  redis.on("error", () => {});
  clients.push(redis);
  return redis;
}

beforeAll(async () => {
  owner = await startRedisServer({ extraArgs: clusterArgs });
  stranger = await startRedisServer({ extraArgs: clusterArgs });
  await client(owner).call("CLUSTER", "ADDSLOTSRANGE", "0", "16383");
  const joining = client(stranger);
  await joining.call("CLUSTER", "MEET", "127.0.0.1", String(owner.port));
  // Gossip takes a moment: wait until the new node knows who serves the slots and calls the
  // cluster up (until then it answers CLUSTERDOWN, which is worth retrying).
  for (let i = 0; ; i++) {
    const info = (await joining.call("CLUSTER", "INFO")) as string;
    if (info.includes("cluster_state:ok")) break;
    if (i > 400) throw new Error("the cluster did not form");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}, 30_000);

afterAll(async () => {
  await Promise.all(managers.map((mill) => mill.stopNow()));
  for (const redis of clients) redis.disconnect();
  await stranger?.dispose();
  await owner?.dispose();
});

describe("a Redis Cluster node that does not serve the slot", () => {
  it("is refused at once with InvalidOptionError naming backend.url and MOVED", async () => {
    const mill = new TaskManager({
      backend: {
        type: "redis",
        url: stranger.url,
        prefix: `moved-${randomUUID().slice(0, 8)}`,
        callTimeoutMs: 5_000,
      },
    });
    managers.push(mill);
    const started = Date.now();
    const error = await mill.submit("report", {}).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).toBe("backend.url");
    expect((error as Error).message).toMatch(/MOVED/);
    // The server's answer, not the 5 s call timeout.
    expect(Date.now() - started).toBeLessThan(2_500);
    // Every later call says the same, at once.
    await expect(mill.list()).rejects.toBeInstanceOf(InvalidOptionError);
  });

  it("the node that serves it takes the same manager's tasks", async () => {
    const mill = new TaskManager({
      backend: { type: "redis", url: owner.url, prefix: `owned-${randomUUID().slice(0, 8)}` },
    });
    managers.push(mill);
    mill.register("report", async () => "done");
    const handle = await mill.submit("report", {});
    expect(await handle.result()).toBe("done");
  });
});
