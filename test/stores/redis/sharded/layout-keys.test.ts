/**
 * The sharded layout's keys in a real Redis: every key of a queue carries that queue's tag (or
 * its partition's), global state stays under the control tag, no script call touches two slots,
 * and queue names of any character give distinct, brace-free tags.
 */
import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { escapeQueueName, shardPrefix } from "../../../../src/stores/redis/sharded/tags.js";
import { useRedis } from "../fixture.js";
import { recordScriptKeys, shardedStore } from "./fixture.js";
import { hashTag, keySlot } from "./slot.js";

const redis = useRedis();

/** Every key of `prefix`'s deployment (control and shards), read with SCAN. */
async function keysOf(prefix: string): Promise<string[]> {
  const client = redis.client();
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await client.scan(cursor, "MATCH", `{${prefix}*`, "COUNT", 1000);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== "0");
  return keys;
}

describe("Redis sharded layout: keys and slots", () => {
  it("puts each queue's keys under its own tag and global state under the control tag", async () => {
    const store = shardedStore(redis, { retention: { ttlMs: 60_000 } });
    const prefix = store.control.keys.prefix;
    for (const queue of ["emails", "reports"])
      for (let n = 0; n < 3; n++) await store.enqueue({ name: "job", queue, payload: n });
    const claimed = (await store.step([], ["emails", "reports"], 10)).tasks;
    expect(claimed).toHaveLength(6);
    await store.step(
      claimed.map((task) => ({ id: task.id, token: task.token, value: task.payload })),
      ["emails"],
      0,
    );
    await store.setPaused("emails", true);
    const tags = new Set((await keysOf(prefix)).map(hashTag));
    expect(tags).toEqual(
      new Set([prefix, shardPrefix(prefix, "emails", 0, 1), shardPrefix(prefix, "reports", 0, 1)]),
    );
    // Every task of a queue lives in its queue's shard.
    for (const task of claimed) {
      const tag = shardPrefix(prefix, task.queue, 0, 1);
      expect(await redis.client().exists(`{${tag}}:t:${task.id}`)).toBe(1);
    }
  });

  it("never sends a script whose KEYS span two slots", async () => {
    const client = redis.client();
    const calls = recordScriptKeys(client);
    const store = shardedStore(redis, { partitions: { hot: 4 } }, client);
    for (let n = 0; n < 20; n++)
      await store.enqueue({ name: "job", queue: n % 2 === 0 ? "hot" : "cold", payload: n });
    await store.enqueueMany([
      { name: "job", queue: "hot", idempotencyKey: "k1" },
      { name: "job", queue: "cold" },
    ]);
    await store.enqueueFlow({
      id: `flow-${randomUUID()}`,
      kind: "flow",
      nodes: [
        {
          ref: "a",
          task: { id: randomUUID(), name: "a", queue: "hot" },
          dependsOn: [],
          dependents: [],
          policy: "cancel",
        },
      ],
    });
    const claimed = (await store.step([], ["hot", "cold"], 30)).tasks;
    expect(claimed.length).toBe(23);
    const [nacked, failed, progressed, ...rest] = claimed;
    if (nacked === undefined || failed === undefined || progressed === undefined)
      throw new Error("too few tasks claimed");
    await store.nack(nacked.id, nacked.token, { delayMs: 60_000 }, new Error("again"));
    await store.cancel(nacked.id);
    await store.fail(failed.id, failed.token, new Error("broke"));
    await store.progress(progressed.id, progressed.token, { half: true });
    await store.renewMany([{ id: progressed.id, token: progressed.token }]);
    await store.ack(progressed.id, progressed.token, 1);
    await store.step(
      rest.map((task) => ({ id: task.id, token: task.token })),
      ["hot", "cold"],
      5,
    );
    await store.dlq.replay({ ids: [failed.id] });
    await store.reclaim();
    await store.trim();
    await store.setPaused("hot", true);
    await store
      .appendAudit({ action: "test", actor: "me", target: "x" } as never, 10)
      .catch(() => {});
    expect(calls.length).toBeGreaterThan(20);
    // The slot function agrees with CLUSTER KEYSLOT's documented answers.
    expect([keySlot("somekey"), keySlot("foo"), keySlot("{user1000}.following")]).toEqual([
      11058, 12182, 3443,
    ]);
    for (const keys of calls) {
      const slots = new Set(keys.map(keySlot));
      expect(slots.size, `one script's keys: ${keys.join(", ")}`).toBe(1);
    }
  });

  it("derives distinct brace-free tags from any queue name", () => {
    const names = ["a", "a#1", "a%23", "{a}", "a}", "{", "}", "a:b", "a b", "a\u0000", "é", "a%"];
    const prefixes = names.map((name) => shardPrefix("p", name, 0, 1));
    expect(new Set(prefixes).size).toBe(names.length);
    for (const prefix of prefixes) expect(prefix).not.toMatch(/[{}]/);
    // A partition suffix can never be confused with a name: "#" is always escaped.
    expect(shardPrefix("p", "a", 1, 2)).toBe("p:q:a#1");
    expect(shardPrefix("p", "a#1", 0, 1)).toBe("p:q:a%231");
    expect(escapeQueueName("{x}")).toBe("%7Bx%7D");
  });
});
