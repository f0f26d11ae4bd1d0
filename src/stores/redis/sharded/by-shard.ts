/**
 * A batch split by the shard each item goes to (or came from), keeping each item's index in
 * the batch so the shards' replies can be put back in the caller's order.
 */
import type { RedisStore } from "../redis-store.js";

/** The items of one shard and their indexes in the batch. */
export interface ShardGroup<T> {
  readonly items: T[];
  readonly slots: number[];
}

/** `items` grouped by `owners[i]`, the shard of `items[i]`, in first-seen order. */
export function groupByShard<T>(
  items: readonly T[],
  owners: readonly RedisStore[],
): Map<RedisStore, ShardGroup<T>> {
  const groups = new Map<RedisStore, ShardGroup<T>>();
  items.forEach((item, slot) => {
    const shard = owners[slot] as RedisStore;
    const group = groups.get(shard);
    if (group === undefined) groups.set(shard, { items: [item], slots: [slot] });
    else {
      group.items.push(item);
      group.slots.push(slot);
    }
  });
  return groups;
}

/** Writes one shard's `replies` into `results` at its items' indexes. */
export function scatter<R>(results: R[], group: ShardGroup<unknown>, replies: readonly R[]): void {
  group.slots.forEach((slot, i) => {
    results[slot] = replies[i] as R;
  });
}
