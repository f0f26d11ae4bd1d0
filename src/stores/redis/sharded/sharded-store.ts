/**
 * `ShardedRedisStore`: the durable store in the sharded key layout, a composite of single-tag
 * stores. Each shard is a `RedisStore` on its own prefix (one hash tag), so every Lua script
 * still touches one slot by construction; this class routes each port call to the shards:
 *
 * - the control shard (the deployment's prefix) keeps what is global: the shard registry and
 *   partition counts, shared pause, workers, schedules, audit, leader locks, the global rate
 *   bucket and the layout version;
 * - a task goes to its queue's shard, or with `partitions` to partition hash(idempotency key)
 *   (so duplicates meet: idempotency keys are unique per queue) or round robin without one;
 * - a flow goes whole into one shard, so its dependents are released in the same atomic step;
 * - reads by id ask every shard at once; listings, counts and the events feed merge them.
 */

import type { AuditEntry, AuditQuery, AuditRecord, AuditStorePage } from "../../../audit/types.js";
import type { ErrorInfo, ListOptions } from "../../../types.js";
import type { FlowInput, StoredFlow } from "../../durable-flows.js";
import type {
  DurableStore,
  EventReader,
  LeaderLockHandle,
  LeaderLockSettings,
  WorkWaiter,
} from "../../durable-store.js";
import type {
  AckRef,
  CancelResult,
  EnqueueInput,
  EnqueueResult,
  LeaseRef,
  QueueDepth,
  ReclaimResult,
  RetryAt,
  StepOptions,
  StepResult,
  StoreCounts,
  StoredTask,
  StoredTaskPage,
  StoreTotals,
  TaskEvent,
  TrimResult,
} from "../../durable-types.js";
import type { StoredSchedule, StoredWorker, WorkerReport } from "../../fleet-types.js";
import type { RedisClient } from "../client.js";
import type { RedisStoreOptions } from "../options.js";
import { RedisStore } from "../redis-store.js";
import { groupByShard, scatter } from "./by-shard.js";
import { ShardedDeadLetters } from "./dead-letters.js";
import { GlobalRate } from "./global-rate.js";
import { listMerged } from "./list.js";
import { isShardedFeedPosition, MergedFeedReader, readMergedFeed } from "./merged-feed.js";
import { ShardSet } from "./shard-set.js";
import { ShardedStepper } from "./step.js";
import { ShardedWaiter } from "./waiter.js";

/** Options of `new ShardedRedisStore(redis, options)`. */
export interface ShardedRedisStoreOptions extends RedisStoreOptions {
  /**
   * Partitions per queue name (1 to 256; 1 when absent): a hot queue's tasks spread over this
   * many shards. The first process to use a queue records its count; later ones follow it.
   */
  readonly partitions?: Readonly<Record<string, number>>;
}

/** The durable store in the sharded layout. */
export class ShardedRedisStore implements DurableStore {
  readonly redis: RedisClient;
  /** The control shard (prefix `options.prefix`): global state, no tasks. */
  readonly control: RedisStore;
  readonly shards: ShardSet;
  readonly dlq: ShardedDeadLetters;
  readonly #stepper: ShardedStepper;
  readonly #rate: GlobalRate | undefined;

  constructor(redis: RedisClient, options: ShardedRedisStoreOptions = {}) {
    const { partitions = {}, ...storeOptions } = options;
    this.redis = redis;
    this.control = new RedisStore(redis, storeOptions);
    const { globalRate: _rate, prefix: _prefix, ...shardOptions } = storeOptions;
    this.shards = new ShardSet(this.control, shardOptions, new Map(Object.entries(partitions)));
    this.dlq = new ShardedDeadLetters(this.shards);
    this.#stepper = new ShardedStepper(this.shards);
    const rate = this.control.options.globalRate;
    this.#rate = rate === undefined ? undefined : new GlobalRate(this.control, rate);
  }

  get leaseMs(): number {
    return this.control.options.leaseMs;
  }

  // --- Writes routed to one shard ---

  async enqueue(input: EnqueueInput): Promise<EnqueueResult> {
    const shard = await this.shards.home(input?.queue, input?.idempotencyKey);
    return shard.enqueue(input);
  }

  /**
   * Each shard's inputs in one atomic step there; atomic as a whole when they all go to one
   * shard (one queue without partitions, or inputs with the same idempotency key).
   */
  async enqueueMany(inputs: readonly EnqueueInput[]): Promise<EnqueueResult[]> {
    if (!Array.isArray(inputs)) return this.control.enqueueMany(inputs); // refuses it
    // One at a time: `home` registers a queue's shard before anything is written to it.
    const owners: RedisStore[] = [];
    for (const input of inputs)
      owners.push(await this.shards.home(input?.queue, input?.idempotencyKey));
    const results: EnqueueResult[] = new Array(inputs.length);
    for (const [shard, group] of groupByShard(inputs, owners))
      scatter(results, group, await shard.enqueueMany(group.items));
    return results;
  }

  /** The whole flow in one shard: its first node's queue, partition by hash of the flow id. */
  async enqueueFlow(flow: FlowInput): Promise<void> {
    const nodes = Array.isArray(flow?.nodes) ? flow.nodes : [];
    const first = nodes[0]?.task.queue;
    const queues = nodes.map((node) => node.task.queue).filter((q) => typeof q === "string");
    const key = typeof flow?.id === "string" ? flow.id : undefined;
    const shard = await this.shards.home(first, key, queues);
    return shard.enqueueFlow(flow);
  }

  async getFlow(id: string): Promise<StoredFlow | undefined> {
    const found = await Promise.all((await this.shards.all()).map((shard) => shard.getFlow(id)));
    return found.find((flow) => flow !== undefined);
  }

  async step(
    acks: readonly AckRef[],
    queues: readonly string[],
    max: number,
    options: StepOptions = {},
  ): Promise<StepResult> {
    if (this.#rate === undefined || max === 0)
      return this.#stepper.step(acks, queues, max, options);
    return this.#rate.around(max, (take) => this.#stepper.step(acks, queues, max, options, take));
  }

  async ack(id: string, token: string, value?: unknown): Promise<number> {
    const shard = await this.shards.owner(id);
    this.shards.forget(id);
    return shard.ack(id, token, value);
  }

  async nack(
    id: string,
    token: string,
    when: RetryAt,
    error: Error | ErrorInfo,
    queue?: string,
  ): Promise<number> {
    const shard = await this.shards.owner(id);
    this.shards.forget(id);
    return shard.nack(id, token, when, error, queue);
  }

  async fail(id: string, token: string, error: Error | ErrorInfo): Promise<number> {
    const shard = await this.shards.owner(id);
    this.shards.forget(id);
    return shard.fail(id, token, error);
  }

  async progress(id: string, token: string, value: unknown): Promise<void> {
    return (await this.shards.owner(id)).progress(id, token, value);
  }

  async renewMany(leases: readonly LeaseRef[], leaseMs?: number): Promise<Array<number | Error>> {
    if (!Array.isArray(leases)) return this.control.renewMany(leases, leaseMs); // refuses it
    const owners = await Promise.all(leases.map((lease) => this.shards.owner(lease.id)));
    const results: Array<number | Error> = new Array(leases.length);
    await Promise.all(
      [...groupByShard(leases, owners)].map(async ([shard, group]) =>
        scatter(results, group, await shard.renewMany(group.items, leaseMs)),
      ),
    );
    return results;
  }

  async cancel(id: string): Promise<CancelResult> {
    return (await this.shards.owner(id)).cancel(id);
  }

  // --- Every shard ---

  async reclaim(): Promise<ReclaimResult> {
    const results = await Promise.all((await this.shards.all()).map((shard) => shard.reclaim()));
    let nextExpiryInMs: number | undefined;
    for (const result of results)
      if (result.nextExpiryInMs !== undefined)
        nextExpiryInMs = Math.min(nextExpiryInMs ?? result.nextExpiryInMs, result.nextExpiryInMs);
    return {
      reclaimed: sum(results, (r) => r.reclaimed),
      poisoned: sum(results, (r) => r.poisoned),
      nextExpiryInMs,
    };
  }

  async trim(): Promise<TrimResult> {
    const results = await Promise.all((await this.shards.all()).map((shard) => shard.trim()));
    return {
      finished: sum(results, (r) => r.finished),
      deadLetters: sum(results, (r) => r.deadLetters),
    };
  }

  async get(id: string): Promise<StoredTask | undefined> {
    const shard = await this.shards.locate(id);
    return (shard ?? this.control).get(id);
  }

  list(options: ListOptions = {}): Promise<StoredTaskPage> {
    return listMerged(this.shards, options);
  }

  async queues(): Promise<QueueDepth[]> {
    const depths = new Map<string, number>();
    for (const { queue } of await this.shards.registry.placements()) depths.set(queue, 0);
    const perShard = await Promise.all((await this.shards.all()).map((shard) => shard.queues()));
    for (const { name, depth } of perShard.flat())
      depths.set(name, (depths.get(name) ?? 0) + depth);
    return [...depths]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, depth]) => ({ name, depth }));
  }

  async counts(): Promise<StoreCounts> {
    const all = await Promise.all((await this.shards.all()).map((shard) => shard.counts()));
    return {
      delayed: sum(all, (c) => c.delayed),
      running: sum(all, (c) => c.running),
      deadLetters: sum(all, (c) => c.deadLetters),
      finished: sum(all, (c) => c.finished),
    };
  }

  async totals(): Promise<StoreTotals> {
    const all = await Promise.all((await this.shards.all()).map((shard) => shard.totals()));
    return {
      succeeded: sum(all, (t) => t.succeeded),
      failed: sum(all, (t) => t.failed),
      cancelled: sum(all, (t) => t.cancelled),
      expired: sum(all, (t) => t.expired),
      retried: sum(all, (t) => t.retried),
    };
  }

  isFeedPosition(value: unknown): value is string {
    return isShardedFeedPosition(value);
  }

  readFeed(after: string, count: number): Promise<TaskEvent[]> {
    return readMergedFeed(this.shards, after, count);
  }

  createFeedReader(): EventReader {
    return new MergedFeedReader(this.shards, this.redis.duplicate());
  }

  createWaiter(): WorkWaiter {
    return new ShardedWaiter(this.shards);
  }

  // --- The control shard ---

  createLeaderLock(name: string, settings: LeaderLockSettings): LeaderLockHandle {
    return this.control.createLeaderLock(name, settings);
  }

  time(): Promise<number> {
    return this.control.time();
  }

  /**
   * Control first, then every shard holding the queue (each claim checks its own shard's set,
   * in the same atomic step that would lease). A shard that starts holding the queue later
   * copies control's state when it is registered (registry.ts).
   */
  async setPaused(queue: string, paused: boolean): Promise<void> {
    await this.control.setPaused(queue, paused);
    const holding = await this.shards.holding([queue], 0);
    await Promise.all(holding.map(({ shard }) => shard.setPaused(queue, paused)));
  }

  pausedQueues(): Promise<string[]> {
    return this.control.pausedQueues();
  }

  heartbeat(worker: WorkerReport, dropAfterMs: number): Promise<number> {
    return this.control.heartbeat(worker, dropAfterMs);
  }

  removeWorker(id: string): Promise<void> {
    return this.control.removeWorker(id);
  }

  listWorkers(dropAfterMs: number): Promise<{ now: number; workers: StoredWorker[] }> {
    return this.control.listWorkers(dropAfterMs);
  }

  saveSchedule(schedule: StoredSchedule): Promise<void> {
    return this.control.saveSchedule(schedule);
  }

  deleteSchedule(id: string): Promise<boolean> {
    return this.control.deleteSchedule(id);
  }

  setSchedulePaused(id: string, paused: boolean): Promise<boolean> {
    return this.control.setSchedulePaused(id, paused);
  }

  listSchedules(): Promise<StoredSchedule[]> {
    return this.control.listSchedules();
  }

  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    return this.control.appendAudit(entry, maxRecords);
  }

  listAudit(query: AuditQuery): Promise<AuditStorePage> {
    return this.control.listAudit(query);
  }
}

function sum<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}
