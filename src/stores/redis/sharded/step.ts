/**
 * A worker's step over the shards: acks grouped by the shard each task was claimed from, then
 * free slots offered to the shards holding the worker's queues, split between them in one
 * parallel round (the odd slots to the first in a rotating order, so every partition and queue
 * gets its turn first), then what is left to the shards that filled their share. Each shard's
 * claim names only the queues it holds; each call is the single-shard step script, atomic in
 * its own slot.
 */
import type { AckRef, ClaimedTask, StepOptions, StepResult } from "../../durable-types.js";
import type { RedisStore } from "../redis-store.js";
import { groupByShard, type ShardGroup, scatter } from "./by-shard.js";
import type { ShardSet } from "./shard-set.js";

/** The acks of one shard, with their indexes in the step's acks. */
type AckGroup = ShardGroup<AckRef>;

/** How long the placement list may be reused by a step before it is read again. */
const PLACEMENTS_MAX_AGE_MS = 250;

/** Runs steps; keeps the rotation. */
export class ShardedStepper {
  readonly #shards: ShardSet;
  /** The next turn per set of shards (a worker alternating queue sets must not lock one parity). */
  readonly #turns = new Map<string, number>();

  constructor(shards: ShardSet) {
    this.#shards = shards;
  }

  /**
   * @param take at most how many tasks may be claimed (the global rate's tokens); the result's
   *   tasks never exceed `min(max, take)`
   */
  async step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    options: StepOptions,
    take: number = max,
  ): Promise<StepResult> {
    const results: Array<number | Error> = new Array(acks.length);
    const groups = await this.#groupAcks(acks);
    const holding = max > 0 ? await this.#shards.holding(queues, PLACEMENTS_MAX_AGE_MS) : [];
    const start = this.#nextTurn(
      holding.map(({ shard }) => shard.keys.prefix).join("\n"),
      holding.length,
    );
    const order = [...holding.slice(start), ...holding.slice(0, start)];
    let remaining = Math.min(max, take);
    const tasks: ClaimedTask[] = [];
    const merged = { now: 0, nextDueAt: undefined as number | undefined, rateWaitMs: 0 };
    let poisoned = 0;
    let expired = 0;
    const absorb = (result: StepResult, group: AckGroup | undefined, shard: RedisStore) => {
      if (group !== undefined) scatter(results, group, result.acks);
      for (const task of result.tasks) {
        this.#shards.claimedFrom(task.id, shard);
        tasks.push(task);
      }
      merged.now = Math.max(merged.now, result.now);
      if (result.nextDueAt !== undefined)
        merged.nextDueAt = Math.min(merged.nextDueAt ?? result.nextDueAt, result.nextDueAt);
      merged.rateWaitMs = Math.max(merged.rateWaitMs, result.rateWaitMs);
      poisoned += result.poisoned;
      expired += result.expired;
    };
    // Round 1, one round trip: the free slots split over the shards (the first ones in this
    // step's rotation get the odd ones), each call carrying its shard's acks.
    const shares = order.map(
      (_, i) => Math.floor(remaining / order.length) + (i < remaining % order.length ? 1 : 0),
    );
    // Shards that may have more work than they were asked for: those that filled their share,
    // and those whose share was 0.
    const more: typeof order = order.filter((_, i) => shares[i] === 0);
    await Promise.all(
      order.map(async ({ shard, queues: held }, i) => {
        const share = shares[i] as number;
        if (share === 0) return;
        const group = groups.get(shard);
        groups.delete(shard);
        const result = await shard.step(group?.items ?? [], held, share, options);
        absorb(result, group, shard);
        if (result.tasks.length === share) more.push(order[i] as (typeof order)[number]);
      }),
    );
    remaining -= tasks.length;
    // Round 2, only when some shards had less work than their share: the slots left go to the
    // shards that may have more, in rotation order. Without the request id: a shard given the
    // same one twice would return its first reply's leases from the receipt.
    more.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    for (const { shard, queues: held } of more) {
      if (remaining <= 0) break;
      const result = await shard.step([], held, remaining, {});
      absorb(result, undefined, shard);
      remaining -= result.tasks.length;
    }
    // Shards with acks but no claim left to offer: acks only, all at once.
    await Promise.all(
      [...groups].map(async ([shard, group]) => {
        absorb(await shard.step(group.items, queues, 0, {}), group, shard);
      }),
    );
    for (const ack of acks) this.#shards.forget(ack.id);
    if (merged.now === 0) merged.now = await this.#shards.control.time();
    return { ...merged, tasks, poisoned, expired, acks: results };
  }

  /** Where this step's rotation starts among `count` shards (named by `key`). */
  #nextTurn(key: string, count: number): number {
    if (count === 0) return 0;
    if (this.#turns.size > 1_000) this.#turns.clear();
    const turn = this.#turns.get(key) ?? 0;
    this.#turns.set(key, turn + 1);
    return turn % count;
  }

  async #groupAcks(acks: readonly AckRef[]): Promise<Map<RedisStore, AckGroup>> {
    const owners = await Promise.all(acks.map((ack) => this.#shards.owner(ack.id)));
    return groupByShard(acks, owners);
  }
}
