/**
 * `list` and `dlq.list` of the sharded store: the filters checked as the single-tag store
 * checks them, the sources named by the status filter, each merged over the shards holding it.
 */

import type { TaskStatus } from "../../../lifecycle/states.js";
import type { DeadLetterListOptions } from "../../../registry/dead-letters.js";
import type { ListOptions } from "../../../types.js";
import type { StoredTaskPage } from "../../durable-types.js";
import { checkDeadLetterFilter, checkListFilter, matchesListFilter } from "../../list-filter.js";
import type { RedisStore } from "../redis-store.js";
import { type MergedSource, walkMerged } from "./merged-walk.js";
import type { ShardSet } from "./shard-set.js";

/** One page of tasks over every shard, in the single-tag store's order. */
export async function listMerged(shards: ShardSet, options: ListOptions): Promise<StoredTaskPage> {
  const filter = checkListFilter(options);
  const { limit, statuses, queue } = filter;
  const wants = (status: TaskStatus) => statuses.has(status);
  const placements = await shards.registry.placements();
  const all = [...new Set(placements.map((placement) => placement.shard))].map((prefix) =>
    shards.shard(prefix),
  );
  const sources: MergedSource[] = [];
  if (wants("queued") || wants("retrying")) {
    const names = [...new Set(placements.map((placement) => placement.queue))].sort();
    for (const q of names) {
      if (queue !== undefined && q !== queue) continue;
      const holders = placements.filter((placement) => placement.queue === q);
      sources.push({
        id: `r:${q}`,
        ready: true,
        participants: holders.map(({ shard: prefix }) => {
          const shard = shards.shard(prefix);
          return { shard, key: shard.keys.ready(q) };
        }),
      });
    }
  }
  const across = (id: string, key: (shard: RedisStore) => string): MergedSource => ({
    id,
    ready: false,
    participants: all.map((shard) => ({ shard, key: key(shard) })),
  });
  if (wants("scheduled") || wants("retrying"))
    sources.push(across("delayed", (shard) => shard.keys.delayed));
  if (wants("running")) sources.push(across("leases", (shard) => shard.keys.leases));
  if (wants("failed")) sources.push(across("dlq", (shard) => shard.keys.dlq));
  if (wants("succeeded") || wants("cancelled") || wants("expired"))
    sources.push(across("finished", (shard) => shard.keys.finished));
  return walkMerged(
    sources,
    options.cursor,
    limit,
    (task) => matchesListFilter(filter, task),
    options.order === "newest",
  );
}

/** A page of dead letters over every shard (oldest failure first). */
export async function listDeadLetters(
  shards: ShardSet,
  options: DeadLetterListOptions,
): Promise<StoredTaskPage> {
  const { limit, name } = checkDeadLetterFilter(options);
  const all = await shards.all();
  return walkMerged(
    [{ id: "dlq", ready: false, participants: all.map((s) => ({ shard: s, key: s.keys.dlq })) }],
    options.cursor,
    limit,
    (task) => task.status === "failed" && (name === undefined || task.name === name),
    options.order === "newest",
  );
}
