/**
 * The shards of one sharded deployment: the control shard, one `RedisStore` per shard prefix
 * (created on first use, sharing the command client), where each queue's tasks are placed,
 * and which shard a task this process claimed lives in (so its ack goes straight there).
 */
import { InvalidArgumentError } from "../../../errors.js";
import { isName } from "../../../validation.js";
import type { RedisStoreOptions } from "../options.js";
import { RedisStore } from "../redis-store.js";
import { ShardRegistry } from "./registry.js";
import { shardPrefix, stableHash } from "./tags.js";

/** Most task ids remembered as claimed here (acks of older ones look their shard up). */
const MAX_REMEMBERED = 100_000;

export class ShardSet {
  readonly control: RedisStore;
  readonly registry: ShardRegistry;
  readonly #shardOptions: RedisStoreOptions;
  readonly #wanted: ReadonlyMap<string, number>;
  readonly #shards = new Map<string, RedisStore>();
  readonly #claimed = new Map<string, RedisStore>();
  readonly #roundRobin = new Map<string, number>();

  /**
   * @param shardOptions the options of every shard (without a prefix; the global rate is taken
   *   from control, never from a shard's own bucket)
   * @param partitions the partition count this process wants per queue (the registry's wins)
   */
  constructor(
    control: RedisStore,
    shardOptions: RedisStoreOptions,
    partitions: ReadonlyMap<string, number>,
  ) {
    this.control = control;
    this.registry = new ShardRegistry(control);
    this.#shardOptions = shardOptions;
    this.#wanted = partitions;
  }

  /** The shard on `prefix` (created on first use). */
  shard(prefix: string): RedisStore {
    let shard = this.#shards.get(prefix);
    if (shard === undefined) {
      shard = new RedisStore(this.control.redis, { ...this.#shardOptions, prefix });
      this.#shards.set(prefix, shard);
    }
    return shard;
  }

  /** Every shard holding tasks (the registry read afresh unless younger than `maxAgeMs`). */
  async all(maxAgeMs = 0): Promise<RedisStore[]> {
    const placements = await this.registry.placements(maxAgeMs);
    return [...new Set(placements.map((placement) => placement.shard))].map((prefix) =>
      this.shard(prefix),
    );
  }

  /** Shards holding tasks of any of `queues`, each with the ones of `queues` it holds. */
  async holding(
    queues: readonly string[],
    maxAgeMs: number,
  ): Promise<Array<{ readonly shard: RedisStore; readonly queues: string[] }>> {
    const wanted = new Set(queues);
    const byShard = new Map<string, string[]>();
    for (const { queue, shard } of await this.registry.placements(maxAgeMs)) {
      if (!wanted.has(queue)) continue;
      const list = byShard.get(shard);
      if (list === undefined) byShard.set(shard, [queue]);
      else list.push(queue);
    }
    return [...byShard].map(([prefix, held]) => ({ shard: this.shard(prefix), queues: held }));
  }

  /**
   * The shard a new task of `queue` goes to: its only shard, or with partitions the one of
   * hash(`key`) when it has an idempotency key (so duplicates meet), else the next in turn.
   * Registered (with the queue's pause) before the caller writes to it.
   */
  async home(queue: unknown, key: string | undefined, extraQueues: readonly string[] = []) {
    if (queue !== undefined && !isName(queue))
      throw new InvalidArgumentError("queue", "must be a queue name", queue);
    const name = queue ?? "default";
    const partitions = await this.registry.partitionsOf(name, this.#wanted.get(name) ?? 1);
    let partition = 0;
    if (partitions > 1) {
      if (key !== undefined) partition = stableHash(key) % partitions;
      else {
        const turn = this.#roundRobin.get(name) ?? 0;
        this.#roundRobin.set(name, turn + 1);
        partition = turn % partitions;
      }
    }
    const shard = this.shard(shardPrefix(this.control.keys.prefix, name, partition, partitions));
    await this.registry.place([name, ...extraQueues], shard);
    return shard;
  }

  /** Remembers that task `id` was claimed from `shard`. */
  claimedFrom(id: string, shard: RedisStore): void {
    if (this.#claimed.size >= MAX_REMEMBERED) this.#claimed.clear();
    this.#claimed.set(id, shard);
  }

  /** Forgets a task once its attempt ended here. */
  forget(id: string): void {
    this.#claimed.delete(id);
  }

  /**
   * The shard holding task `id`: where this process claimed it, else the one whose hash has
   * it (every shard asked at once), else `undefined`.
   */
  async locate(id: string): Promise<RedisStore | undefined> {
    const known = this.#claimed.get(id);
    if (known !== undefined) return known;
    if (typeof id !== "string" || id.length === 0) return undefined;
    const shards = await this.all();
    const found = await Promise.all(shards.map((shard) => shard.redis.exists(shard.keys.task(id))));
    return shards[found.indexOf(1)];
  }

  /** The shard of `id`, or control (holding no tasks: it answers as a store that lacks it). */
  async owner(id: string): Promise<RedisStore> {
    return (await this.locate(id)) ?? this.control;
  }
}
