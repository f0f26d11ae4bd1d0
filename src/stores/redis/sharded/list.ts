/**
 * `list` and `dlq.list` of the sharded store: the filters checked as the single-tag store
 * checks them, the sources named by the status filter, each merged over the shards holding it.
 */
import { InvalidArgumentError } from "../../../errors.js";
import { TaskStatus } from "../../../lifecycle/states.js";
import type { DeadLetterListOptions } from "../../../registry/dead-letters.js";
import type { ListOptions } from "../../../types.js";
import { resolvePageLimit } from "../../../validation.js";
import type { StoredTaskPage } from "../../durable-types.js";
import type { RedisStore } from "../redis-store.js";
import { type MergedSource, walkMerged } from "./merged-walk.js";
import type { ShardSet } from "./shard-set.js";

const ALL_STATUSES = Object.values(TaskStatus);

/** One page of tasks over every shard, in the single-tag store's order. */
export async function listMerged(shards: ShardSet, options: ListOptions): Promise<StoredTaskPage> {
  const limit = resolvePageLimit(options.limit as number | undefined);
  const statuses = validateStatuses(options.status);
  const { queue, name } = options;
  if (queue !== undefined && (typeof queue !== "string" || queue.length === 0))
    throw new InvalidArgumentError("queue", "must be a non-empty string", queue);
  if (name !== undefined && typeof name !== "string")
    throw new InvalidArgumentError("name", "must be a string", name);
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
    (task) =>
      statuses.has(task.status) &&
      (queue === undefined || task.queue === queue) &&
      (name === undefined || task.name === name),
    options.order === "newest",
  );
}

/** A page of dead letters over every shard (oldest failure first). */
export async function listDeadLetters(
  shards: ShardSet,
  options: DeadLetterListOptions,
): Promise<StoredTaskPage> {
  const limit = resolvePageLimit(options.limit);
  const { name } = options;
  if (name !== undefined && typeof name !== "string")
    throw new InvalidArgumentError("name", "must be a string", name);
  const all = await shards.all();
  return walkMerged(
    [{ id: "dlq", ready: false, participants: all.map((s) => ({ shard: s, key: s.keys.dlq })) }],
    options.cursor,
    limit,
    (task) => task.status === "failed" && (name === undefined || task.name === name),
    options.order === "newest",
  );
}

function validateStatuses(status: ListOptions["status"]): ReadonlySet<TaskStatus> {
  if (status === undefined) return new Set(ALL_STATUSES);
  const list: readonly unknown[] = Array.isArray(status) ? status : [status];
  for (const item of list)
    if (!ALL_STATUSES.includes(item as TaskStatus))
      throw new InvalidArgumentError("status", `must be one of ${ALL_STATUSES.join(", ")}`, item);
  return new Set(list as TaskStatus[]);
}
