/**
 * The control shard's registry of the sharded layout: which shard holds tasks of which queue
 * (`{p}:placements`, a set of `[queue, shard prefix]` JSON pairs), and each queue's partition
 * count (`{p}:partitions`, first writer wins so every process places a queue the same way).
 *
 * A placement is registered before the first task of a queue lands in a shard, and in the same
 * step the shard takes the queue's shared pause from control, so a shard created after a pause
 * starts paused. Registering leaves a wake-up token on the control marker of the queue, so a
 * worker blocked on it learns of the new shard at once.
 */
import type { RedisClient } from "../client.js";
import type { RedisStore } from "../redis-store.js";

/** Keys of the registry in the control shard. */
export interface RegistryKeys {
  readonly placements: string;
  /** A short stream with an entry per new placement: blocked feed readers wake on it. */
  readonly placementLog: string;
  readonly partitions: string;
}

/** Registry keys of the control store's prefix. */
export function registryKeys(control: RedisStore): RegistryKeys {
  return {
    placements: `${control.keys.base}placements`,
    placementLog: `${control.keys.base}placements:log`,
    partitions: `${control.keys.base}partitions`,
  };
}

/** One `[queue, shard prefix]` pair. */
export interface Placement {
  readonly queue: string;
  readonly shard: string;
}

/** Reads and writes the registry; caches what it read (placements only ever grow). */
export class ShardRegistry {
  readonly #control: RedisStore;
  readonly #keys: RegistryKeys;
  readonly #known = new Set<string>();
  readonly #partitions = new Map<string, number>();
  #placements: Placement[] = [];
  #refreshedAt = Number.NEGATIVE_INFINITY;

  constructor(control: RedisStore) {
    this.#control = control;
    this.#keys = registryKeys(control);
  }

  /** The registry's keys in the control shard. */
  get keys(): RegistryKeys {
    return this.#keys;
  }

  get #redis(): RedisClient {
    return this.#control.redis;
  }

  /** Every placement known (refreshed when older than `maxAgeMs`; 0 refreshes now). */
  async placements(maxAgeMs = 0): Promise<readonly Placement[]> {
    if (performance.now() - this.#refreshedAt >= maxAgeMs) await this.refresh();
    return this.#placements;
  }

  /** Reads every placement from the control shard. */
  async refresh(): Promise<void> {
    const members = await this.#redis.smembers(this.#keys.placements);
    this.#refreshedAt = performance.now();
    for (const member of members) this.#remember(member);
  }

  /** The partition count of `queue`: the registry's, else `wanted` (registered first). */
  async partitionsOf(queue: string, wanted: number): Promise<number> {
    const known = this.#partitions.get(queue);
    if (known !== undefined) return known;
    await this.#redis.hsetnx(this.#keys.partitions, queue, String(wanted));
    const stored = Number(await this.#redis.hget(this.#keys.partitions, queue));
    const count = Number.isInteger(stored) && stored >= 1 ? stored : wanted;
    this.#partitions.set(queue, count);
    return count;
  }

  /**
   * Records that `shard` holds tasks of each of `queues` (before they are written there). A new
   * placement copies the queue's shared pause from control into the shard, then wakes workers
   * blocked on the queue's control marker.
   */
  async place(queues: readonly string[], shard: RedisStore): Promise<void> {
    for (const queue of new Set(queues)) {
      const member = JSON.stringify([queue, shard.keys.prefix]);
      if (this.#known.has(member)) continue;
      const added = await this.#redis.sadd(this.#keys.placements, member);
      if (added === 1) {
        // Added first, read second (setPaused writes control first, reads placements second):
        // whichever runs second sees the other, so a pause is never missed.
        if ((await this.#redis.sismember(this.#control.keys.paused, queue)) === 1)
          await shard.redis.sadd(shard.keys.paused, queue);
        const marker = this.#control.keys.marker(queue);
        await this.#redis
          .multi()
          .lpush(marker, "1")
          .ltrim(marker, 0, 0)
          .xadd(this.#keys.placementLog, "MAXLEN", "~", 100, "*", "shard", shard.keys.prefix)
          .exec();
      }
      this.#remember(member);
    }
  }

  #remember(member: string): void {
    if (this.#known.has(member)) return;
    const parsed: unknown = JSON.parse(member);
    if (!Array.isArray(parsed) || typeof parsed[0] !== "string" || typeof parsed[1] !== "string")
      return;
    this.#known.add(member);
    this.#placements = [...this.#placements, { queue: parsed[0], shard: parsed[1] }];
  }
}
