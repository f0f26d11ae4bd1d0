/**
 * Memory mode: tasks live in this process. The registry holds the records, the dispatcher is the
 * one scheduling path (caps, token bucket, delays and retries on one timer), the runner moves
 * each task through its lifecycle, and failed tasks wait in a bounded dead-letter queue.
 */

import { MemoryAuditStore } from "../../audit/memory-audit.js";
import type { AuditStore } from "../../audit/types.js";
import type {
  AbortOutcome,
  Backend,
  BackendHealth,
  BackendStats,
  DeadLetterOperations,
  RegisteredHandler,
} from "../../engine/backend.js";
import type { SubmitManyItem } from "../../engine/submit-many.js";
import { CancelledError, HandlerNotFoundError, InvalidArgumentError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { FlowHandle } from "../../flows/flow-types.js";
import type { CheckedNode } from "../../flows/validate-flow.js";
import type { ShutdownTracker } from "../../lifecycle/shutdown.js";
import { MemoryTaskHandle } from "../../lifecycle/task-handle.js";
import type { TaskRecord } from "../../lifecycle/task-record.js";
import type { DepthSnapshot } from "../../observability/metrics.js";
import type { Observability } from "../../observability/setup.js";
import { captureTraceContext } from "../../observability/tracing.js";
import type { ResolvedOptions } from "../../options.js";
import { Registry } from "../../registry/registry.js";
import type { ResultBroadcaster } from "../../results/broadcaster.js";
import { Alarm } from "../../scheduling/alarm.js";
import { flushMicrotasks } from "../../scheduling/clock.js";
import { NO_SUBMIT_OPTIONS, validateSubmitOptions } from "../../submit-options.js";
import type {
  ListOptions,
  QueueInfo,
  SubmitOptions,
  TaskHandle,
  TaskPage,
  TaskSnapshot,
} from "../../types.js";
import { decodeJson, encodeJson } from "../json-codec.js";
import { MemoryDeadLetterQueue } from "./memory-dead-letter-queue.js";
import { MemoryFlowHandle } from "./memory-flow-handle.js";
import { MemoryFlows } from "./memory-flows.js";
import { newTaskRecord, submitRetry } from "./new-task-record.js";
import { TaskRunner } from "./runner.js";
import { TaskDispatcher as Dispatcher } from "./task-dispatcher.js";

export interface MemoryBackendDeps {
  readonly options: ResolvedOptions;
  readonly events: TaskEventBus;
  readonly results: ResultBroadcaster;
  readonly observability: Observability;
  readonly shutdown: ShutdownTracker;
}

const HEALTH: BackendHealth = Object.freeze({ backend: "memory", status: "connected" });

export class MemoryBackend implements Backend {
  readonly #options: ResolvedOptions;
  readonly #shutdown: ShutdownTracker;
  readonly #tracing: boolean;
  readonly #registry: Registry;
  readonly #deadLetters: MemoryDeadLetterQueue;
  readonly #runner: TaskRunner;
  readonly #dispatcher: Dispatcher;
  readonly #retentionAlarm: Alarm;
  readonly #flows: MemoryFlows;

  constructor(deps: MemoryBackendDeps) {
    const { options, results, observability } = deps;
    this.#options = options;
    this.audit = new MemoryAuditStore(options.clock);
    this.#shutdown = deps.shutdown;
    this.#tracing = observability.tracing;
    this.#registry = new Registry(options.retention, options.createId);
    this.#flows = new MemoryFlows({
      registry: this.#registry,
      retention: options.retention,
      now: () => options.clock.now(),
    });
    this.#runner = new TaskRunner({
      clock: options.clock,
      random: options.random,
      logger: options.logger,
      registry: this.#registry,
      events: deps.events,
      results,
      instrumentation: observability.instrumentation,
      onTerminal: (record) => this.#onTerminal(record),
      onFlowNodeEnded: (record) => this.#flows.ended(record),
      jsonResults: options.payloads === "json",
    });
    this.#flows.attach(this.#runner);
    this.#dispatcher = new Dispatcher({
      clock: options.clock,
      concurrency: options.concurrency,
      rate: options.rate,
      queueSettings: options.queues,
      start: (record) => this.#runner.start(record),
      isHeld: () => results.blocked,
    });
    this.#runner.attach(this.#dispatcher);
    this.#deadLetters = new MemoryDeadLetterQueue({
      registry: this.#registry,
      runner: this.#runner,
      shutdown: deps.shutdown,
    });
    this.dlq = this.#deadLetters;
    // Housekeeping must not keep a finished service alive: the retention timer is unref'd.
    this.#retentionAlarm = new Alarm(options.clock, (now) => this.#sweep(now), true);
  }

  submit<R>(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler | undefined,
  ): TaskHandle<R> {
    if (handler === undefined) {
      if (typeof name !== "string" || name.length === 0)
        throw new InvalidArgumentError("name", "must be a non-empty string", name);
      throw new HandlerNotFoundError(name);
    }
    if (options !== NO_SUBMIT_OPTIONS) validateSubmitOptions(options);
    // payloads: "json": the handler gets what a durable store would hand it.
    if (this.#options.payloads === "json") payload = decodeJson(encodeJson("payload", payload));
    const key = options.idempotencyKey;
    if (key !== undefined) {
      const existing = this.#registry.findByKey(key, name, payload);
      if (existing !== undefined) return new MemoryTaskHandle<R>(existing);
    }
    const signal = options.signal;
    if (signal?.aborted) throw new CancelledError("signal");
    const record = this.#newRecord(name, payload, options, handler, false);
    this.#registry.add(record);
    if (signal !== undefined) {
      const onAbort = () => this.#runner.cancel(record, "signal");
      signal.addEventListener("abort", onAbort, { once: true });
      record.detachSignal = () => signal.removeEventListener("abort", onAbort);
    }
    if (this.#tracing) record.traceContext = captureTraceContext();
    this.#runner.accept(record);
    return new MemoryTaskHandle<R>(record);
  }

  /**
   * All or nothing: every item is checked (handler, options, retry policy, idempotency key,
   * submit signal) before the first is accepted; the accepts then cannot fail.
   */
  submitMany(
    items: readonly SubmitManyItem[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
  ): TaskHandle[] {
    items.forEach((item, i) => {
      const handler = handlers.get(item.name);
      if (handler === undefined) throw new HandlerNotFoundError(item.name);
      const options = item.options ?? NO_SUBMIT_OPTIONS;
      if (options.retry !== undefined)
        submitRetry(options.retry, handler.retry, `items[${i}].options.retry`);
      if (options.signal?.aborted) throw new CancelledError("signal");
      const key = options.idempotencyKey;
      if (key !== undefined) this.#registry.findByKey(key, item.name, item.payload);
    });
    return items.map((item) =>
      this.submit(
        item.name,
        item.payload,
        item.options ?? NO_SUBMIT_OPTIONS,
        handlers.get(item.name),
      ),
    );
  }

  #newRecord(
    name: string,
    payload: unknown,
    options: SubmitOptions,
    handler: RegisteredHandler,
    waiting: boolean,
  ): TaskRecord {
    const now = this.#options.clock.now();
    return newTaskRecord(this.#registry, now, name, payload, options, handler, waiting);
  }

  /**
   * A flow already checked by `checkFlow`: every node's handler and retry policy are checked
   * before the first record exists, so a refused flow leaves nothing behind. Nodes without
   * dependencies are queued at once; the others wait.
   */
  submitFlow(
    nodes: readonly CheckedNode[],
    handlers: ReadonlyMap<string, RegisteredHandler>,
    kind: "flow" | "batch",
  ): FlowHandle {
    const resolved = nodes.map((node) => {
      const handler = handlers.get(node.name);
      if (handler === undefined) throw new HandlerNotFoundError(node.name);
      const retry = node.options.retry;
      if (retry !== undefined)
        submitRetry(retry, handler.retry, `nodes[${node.index}].options.retry`);
      return handler;
    });
    const records = nodes.map((node, i) =>
      this.#newRecord(
        node.name,
        node.payload,
        node.options,
        resolved[i] as RegisteredHandler,
        node.dependencies.length > 0,
      ),
    );
    const flow = this.#flows.create(this.#flows.newId(), kind, nodes, records);
    for (const record of records) {
      this.#registry.add(record);
      if (this.#tracing) record.traceContext = captureTraceContext();
    }
    // Waiting nodes first: a node that fails at once may cancel its dependents, which must
    // already be accepted (counted live) by then.
    for (const record of records) if (record.status === "waiting") this.#runner.accept(record);
    for (const record of records) if (record.status !== "waiting") this.#runner.accept(record);
    return new MemoryFlowHandle(flow);
  }

  async getFlow(id: string): Promise<FlowHandle | undefined> {
    const flow = this.#flows.get(id);
    return flow === undefined ? undefined : new MemoryFlowHandle(flow);
  }

  async get(id: string): Promise<TaskSnapshot | undefined> {
    return this.#registry.get(id)?.detail();
  }

  async cancel(id: string): Promise<boolean> {
    const record = this.#registry.get(id);
    if (record === undefined) return this.#flows.cancel(id);
    return this.#runner.cancel(record, "cancel");
  }

  async list(options?: ListOptions): Promise<TaskPage> {
    return this.#registry.list(options);
  }

  pause(queue: string): void {
    this.#dispatcher.pause(queue);
  }

  resume(queue: string): void {
    this.#dispatcher.resume(queue);
  }

  async queues(): Promise<QueueInfo[]> {
    return this.#dispatcher.queueInfo();
  }

  depths(): DepthSnapshot {
    return { queues: this.#dispatcher.queueInfo(), deadLetters: this.#deadLetters.size };
  }

  health(): BackendHealth {
    return HEALTH;
  }

  async sharedStats(): Promise<BackendStats> {
    return this.stats();
  }

  stats(): BackendStats {
    let queued = 0;
    let waiting = 0;
    for (const queue of this.#dispatcher.queueInfo()) {
      queued += queue.depth;
      waiting += queue.waiting;
    }
    return {
      ...this.#runner.counters,
      running: this.#dispatcher.running,
      queued,
      waiting,
      live: this.#runner.live,
      retained: this.#registry.finishedCount,
      deadLetters: this.#deadLetters.size,
    };
  }

  handlersChanged(): void {}

  /** No result history is kept: `subscribeResults({ after })` starts live. */
  backfill(): undefined {
    return undefined;
  }

  /** One process: every tick fires here. */
  cronLeadership(): undefined {
    return undefined;
  }

  wantEvents(): void {}

  /** A subscriber with the `block` policy made room: start what it held back. */
  resultsFreed(): void {
    this.#dispatcher.pump();
  }

  /** Memory mode keeps the audit trail in the process, like its tasks. */
  readonly audit: AuditStore;

  /** The dead-letter queue (memory-dead-letter-queue.ts). */
  readonly dlq: DeadLetterOperations;

  async drain(deadline: Promise<unknown>, deadlineAt: number): Promise<boolean> {
    // A delayed task or a retry due after the deadline cannot run before it: waiting for it
    // would hold every stop for its whole timeout. It is cancelled now (reported as such).
    for (const record of [...this.#registry.live()])
      if (record.runAt !== undefined && record.runAt > deadlineAt)
        this.#runner.cancel(record, "stop");
    const idle = this.#shutdown.whenIdle(this.#runner.live).then(() => "idle" as const);
    const outcome = await Promise.race([idle, deadline.then(() => "deadline" as const)]);
    if (outcome === "deadline") return false;
    // A task that just failed at its timeout may have a handler still settling: as in abort(),
    // one macrotask lets handlers that honour their signal finish before we call any abandoned.
    if (this.#runner.abortedInFlight.size > 0) await flushMicrotasks();
    return true;
  }

  async abort(): Promise<AbortOutcome> {
    this.#flows.stop();
    for (const record of this.#dispatcher.close()) this.#runner.cancel(record, "stop");
    for (const record of this.#registry.live()) this.#runner.cancel(record, "stop");
    this.#runner.close();
    // One macrotask lets handlers that honour their signal settle before we call them abandoned.
    await flushMicrotasks();
    return { abandoned: this.unsettled(), requeued: [], unwritten: [] };
  }

  unsettled(): string[] {
    return [...this.#runner.abortedInFlight].map((attempt) => attempt.taskId);
  }

  async close(): Promise<void> {
    this.destroy();
  }

  /** Nothing to wait for in memory: the same as `close()`. */
  destroy(): void {
    this.#dispatcher.close();
    this.#runner.close();
    this.#retentionAlarm.cancel();
  }

  #onTerminal(record: TaskRecord): void {
    if (record.status === "failed") this.#deadLetters.add(record);
    this.#shutdown.observe(record.id, record.status, this.#runner.live);
    // Records finish in time order, so an armed alarm is already due at or before this one's
    // expiry; if its record was evicted early, the sweep it triggers re-arms for the next.
    if (this.#retentionAlarm.armed || this.#shutdown.stopping) return;
    const due = this.#registry.nextExpiry();
    if (due !== undefined) this.#retentionAlarm.armAt(due);
  }

  #sweep(now: number): void {
    const next = this.#registry.sweep(now);
    if (next !== undefined) this.#retentionAlarm.armAt(next);
  }
}
