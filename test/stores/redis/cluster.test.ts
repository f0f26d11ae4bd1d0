/**
 * What only a Redis Cluster has, on a real 3-master cluster (test/support/redis-cluster.ts):
 * every key of a store lands in its hash tag's slot on the master serving it, stores whose
 * tags live on different masters all work, a blocking wait runs (and is aborted) on the slot's
 * node, `backend.url` as a list of seeds and `backend.connection` as an ioredis `Cluster` both
 * work end to end, and a manager comes back after the node serving its slot is killed and
 * restarted. The lifecycle itself is proven by the conformance suite on the same cluster.
 */
import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";
import { BackendUnavailableError, InvalidOptionError, TaskManager } from "taskmill";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { keySlot } from "../../../src/stores/redis/client.js";
import { KeySpace } from "../../../src/stores/redis/keys.js";
import { ShardedRedisStore } from "../../../src/stores/redis/sharded/sharded-store.js";
import { useRedisCluster } from "./cluster-fixture.js";

const cluster = useRedisCluster();
const managers: TaskManager[] = [];
const direct: Redis[] = [];

afterEach(async () => {
  await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
});

afterAll(() => {
  for (const client of direct) client.disconnect();
});

/** A plain connection to node `i` alone (no redirections followed). */
function node(i: number): Redis {
  const server = cluster.cluster().nodes[i];
  if (server === undefined) throw new Error(`no node ${i}`);
  const client = new Redis(server.port, server.host, { maxRetriesPerRequest: 50 });
  client.on("error", () => {});
  direct.push(client);
  return client;
}

/** The index of the node serving `slot`, from CLUSTER SLOTS. */
async function ownerOf(slot: number): Promise<number> {
  const ranges = (await node(0).call("CLUSTER", "SLOTS")) as Array<
    [number, number, [string, number]]
  >;
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (range === undefined) throw new Error(`no node serves slot ${slot}`);
  const port = range[2][1];
  return cluster.cluster().nodes.findIndex((server) => server.port === port);
}

/** A fresh prefix whose hash tag lives on node `i`. */
async function prefixOn(i: number): Promise<string> {
  for (;;) {
    const prefix = `cl-${randomUUID().slice(0, 8)}`;
    if ((await ownerOf(keySlot(`{${prefix}}`))) === i) return prefix;
  }
}

function manager(backend: ConstructorParameters<typeof TaskManager>[0]): TaskManager {
  const mill = new TaskManager({ retry: { maxRetries: 0 }, ...backend });
  managers.push(mill);
  return mill;
}

describe("the Redis store on a Redis Cluster", () => {
  it("computes the slot of every key as Redis does", async () => {
    const keys = new KeySpace("tm");
    const samples = [
      keys.seq,
      keys.task("abc"),
      keys.ready("emails"),
      keys.idempotency("order:1"),
      "no-tag-at-all",
      "{}empty-tag",
      "{unclosed",
      "ünïcödé-{tag}",
    ];
    for (const key of samples)
      expect(keySlot(key), key).toBe(Number(await node(0).call("CLUSTER", "KEYSLOT", key)));
  });

  it("writes every key of a store into its tag's slot, on the master serving it and no other", async () => {
    const store = cluster.store();
    const { prefix } = store.options;
    await store.enqueue({ name: "a", payload: 1 });
    await store.enqueue({ name: "b", payload: 2, idempotencyKey: "k-b", queue: "other" });
    await store.enqueue({ name: "c", payload: 3, delayMs: 60_000 });
    const claimed = await store.claim(["default"], 1);
    const [task] = claimed.tasks;
    if (task === undefined) throw new Error("nothing claimed");
    await store.ack(task.id, task.token, "done");

    const slot = Number(await node(0).call("CLUSTER", "KEYSLOT", `{${prefix}}`));
    const owner = await ownerOf(slot);
    const perNode = await Promise.all(
      [0, 1, 2].map(async (i) => ({
        inSlot: Number(await node(i).call("CLUSTER", "COUNTKEYSINSLOT", String(slot))),
        ofPrefix: (await node(i).keys(`{${prefix}}*`)).length,
      })),
    );
    const owned = perNode[owner];
    // Tasks, queues, the events stream, counters, the idempotency key: all there.
    expect(owned?.ofPrefix).toBeGreaterThanOrEqual(8);
    expect(owned?.inSlot).toBe(owned?.ofPrefix);
    for (const [i, counts] of perNode.entries())
      if (i !== owner) expect(counts, `node ${i}`).toEqual({ inSlot: 0, ofPrefix: 0 });
  });

  it("serves stores whose tags live on each of the three masters", async () => {
    for (const i of [0, 1, 2]) {
      const store = cluster.store({ prefix: await prefixOn(i) });
      const { id } = await store.enqueue({ name: "job", payload: { on: i } });
      const [task] = (await store.claim(["default"], 1)).tasks;
      expect(task?.id).toBe(id);
      await store.ack(id, task?.token as string, { ok: i });
      expect(await store.get(id)).toMatchObject({ status: "succeeded", value: { ok: i } });
      // The store's clock is its node's TIME (a keyless command, routed by hand).
      expect(Math.abs((await store.time()) - Date.now())).toBeLessThan(5_000);
    }
  });

  it("blocks on the slot's node: woken by an enqueue, and an aborted wait returns at once", async () => {
    const store = cluster.store();
    const waiter = store.createWaiter();
    try {
      const controller = new AbortController();
      const waiting = waiter.wait(["default"], 30_000, controller.signal);
      setTimeout(() => controller.abort(), 100);
      const started = Date.now();
      expect(await waiting).toBe("aborted");
      // CLIENT UNBLOCK reached the node the BLPOP blocks on: not the 30 s timeout.
      expect(Date.now() - started).toBeLessThan(5_000);

      const woken = waiter.wait(["default"], 30_000);
      await store.enqueue({ name: "job", payload: null });
      expect(await woken).toBe("woken");
    } finally {
      await waiter.close();
    }
  });

  it("a sharded store's waiter blocks per shard, each wait aborted on its own node at once", async () => {
    // Control and four partitions: five hash tags, so five blocking waits (one per slot).
    const store = new ShardedRedisStore(cluster.client(), {
      prefix: `shc-${randomUUID().slice(0, 8)}`,
      partitions: { spread: 4 },
    });
    for (let i = 0; i < 4; i++) await store.enqueue({ name: "job", payload: i, queue: "spread" });
    const waiter = store.createWaiter();
    try {
      // Takes the tokens the enqueues left until a wait times out.
      for (let i = 0; i < 20 && (await waiter.wait(["spread"], 200)) !== "timeout"; i++);
      const controller = new AbortController();
      const waiting = waiter.wait(["spread"], 30_000, controller.signal);
      setTimeout(() => controller.abort(), 100);
      let started = Date.now();
      expect(await waiting).toBe("aborted");
      // Every shard's BLPOP was unblocked on the node serving it: not the 30 s timeout.
      expect(Date.now() - started).toBeLessThan(5_000);

      const woken = waiter.wait(["spread"], 30_000);
      await new Promise((resolve) => setTimeout(resolve, 100));
      started = Date.now();
      await store.enqueue({ name: "job", payload: 4, queue: "spread" });
      // One shard's token wakes the wait; the other shards' waits are ended, not waited out.
      expect(await woken).toBe("woken");
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await waiter.close();
    }
  });

  it("backend.url as a list of seed URLs: submit, run and result end to end", async () => {
    const mill = manager({
      backend: { type: "redis", url: cluster.cluster().urls, prefix: await prefixOn(1) },
    });
    mill.register("add", async (p: { a: number; b: number }) => p.a + p.b);
    const handle = await mill.submit("add", { a: 2, b: 40 });
    expect(await handle.result()).toBe(42);
    expect(mill.health()).toMatchObject({ backend: "redis", status: "connected" });
  });

  it("backend.connection as an ioredis Cluster: used through a duplicate, never quit", async () => {
    const client = cluster.client();
    const mill = manager({
      backend: { type: "redis", connection: client, prefix: await prefixOn(2) },
    });
    mill.register("echo", async (p: string) => p.toUpperCase());
    const handle = await mill.submit("echo", "cluster");
    expect(await handle.result()).toBe("CLUSTER");
    await mill.stopNow();
    expect(await client.ping()).toBe("PONG");
  });

  it("refuses an empty seed list, a bad seed URL and a database other than 0", () => {
    const refused = (url: unknown) => {
      try {
        // Accepted ones are stopped after the test (they never reach a server: port 7000).
        managers.push(new TaskManager({ backend: { type: "redis", url: url as string[] } }));
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refused([])).toMatchObject({ option: "backend.url" });
    expect(refused(["redis://127.0.0.1:7000", "http://127.0.0.1:7001"])).toMatchObject({
      option: "backend.url[1]",
    });
    expect(refused(["redis://127.0.0.1:7000/1"])).toMatchObject({ option: "backend.url[0]" });
    expect(refused(["redis://127.0.0.1:7000/0"])).toBeUndefined();
    for (const url of [[], ["redis://127.0.0.1:7000/2"], [42]])
      expect(refused(url)).toBeInstanceOf(InvalidOptionError);
  });

  it("an unreachable cluster: calls reject with BackendUnavailableError naming the seeds, never their credentials", async () => {
    const mill = manager({
      backend: {
        type: "redis",
        // Ports 1 and 2: privileged, never handed out as free ports, nothing listens there.
        url: ["redis://user:s3cret@127.0.0.1:1", "redis://127.0.0.1:2"],
        callTimeoutMs: 1_000,
      },
    });
    const error = await mill.submit("noop", null).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect((error as Error).message).toContain("redis://127.0.0.1:1");
    expect((error as Error).message).toContain("redis://127.0.0.1:2");
    expect((error as Error).message).not.toContain("s3cret");
  });

  // Last: it restarts a master (its data is gone, its slots and node id stay).
  it("a manager comes back after the master serving its slot is killed and restarted", async () => {
    const prefix = await prefixOn(0);
    const mill = manager({
      backend: { type: "redis", url: cluster.cluster().urls, prefix, callTimeoutMs: 20_000 },
    });
    mill.register("echo", async (p: number) => p);
    expect(await (await mill.submit("echo", 1)).result()).toBe(1);
    await cluster.cluster().kill(0);
    await cluster.cluster().restart(0);
    const handle = await mill.submit("echo", 2);
    expect(await handle.result()).toBe(2);
    expect(mill.health()).toMatchObject({ status: "connected" });
  }, 60_000);
});
