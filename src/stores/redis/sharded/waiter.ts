/**
 * Waiting for work over the shards: blocks on the marker of each of the worker's queues in
 * every shard holding it, and on the queue's marker in the control shard (a token lands there
 * when a shard starts holding the queue). On one node a single BLPOP waits on all of them; on a
 * Redis Cluster a BLPOP may only name keys of one slot, so each shard gets a blocking
 * connection of its own and the first to wake ends the others.
 */

import type { WaitOutcome, WorkWaiter as WorkWaiterPort } from "../../durable-store.js";
import type { RedisClient } from "../client.js";
import type { KeySpace } from "../keys.js";
import { WorkWaiter } from "../waiter.js";
import type { ShardSet } from "./shard-set.js";

/**
 * The single-shard waiter blocks on `keys.marker(name)` for each name it is given; handing it
 * marker keys themselves lets one waiter block on markers of several shards.
 */
const MARKER_KEYS = { marker: (key: string) => key } as unknown as KeySpace;

export class ShardedWaiter implements WorkWaiterPort {
  readonly #shards: ShardSet;
  readonly #waiters = new Map<string, WorkWaiter>();
  #closed = false;

  constructor(shards: ShardSet) {
    this.#shards = shards;
  }

  async wait(
    queues: readonly string[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<WaitOutcome> {
    if (this.#closed) return "closed";
    const control = this.#shards.control;
    const groups = new Map<string, string[]>();
    const add = (group: string, keys: string[]) => {
      const list = groups.get(group);
      if (list === undefined) groups.set(group, keys);
      else list.push(...keys);
    };
    const cluster = (control.redis as { isCluster?: boolean }).isCluster === true;
    const names = Array.isArray(queues) ? queues : [];
    add(
      cluster ? control.keys.prefix : "",
      names.map((queue) => control.keys.marker(queue)),
    );
    for (const { shard, queues: held } of await this.#shards.holding(names, 0))
      add(
        cluster ? shard.keys.prefix : "",
        held.map((queue) => shard.keys.marker(queue)),
      );
    const stop = new AbortController();
    const onAbort = () => stop.abort();
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) stop.abort();
    try {
      const waits = [...groups].map(([group, markers]) =>
        this.#waiter(group).wait(markers.length > 0 ? markers : queues, timeoutMs, stop.signal),
      );
      const first = await Promise.race(waits);
      stop.abort();
      await Promise.allSettled(waits);
      if (this.#closed) return "closed";
      if (signal?.aborted) return "aborted";
      // A token on a control marker means a new shard holds the queue: read it before claiming.
      if (first === "woken") await this.#shards.registry.refresh();
      return first;
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await Promise.all([...this.#waiters.values()].map((waiter) => waiter.close()));
  }

  /** The waiter of a group, on a blocking connection of its own (created on first use). */
  #waiter(group: string): WorkWaiter {
    let waiter = this.#waiters.get(group);
    if (waiter === undefined) {
      const redis: RedisClient = this.#shards.control.redis;
      waiter = new WorkWaiter(redis.duplicate(), redis, MARKER_KEYS);
      this.#waiters.set(group, waiter);
    }
    return waiter;
  }
}
