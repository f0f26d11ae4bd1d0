/**
 * The durable worker's claim loop: claims tasks from the store for the queues this process has
 * handlers for, never more than it has free slots (and, without a global rate, tokens in the
 * manager's one bucket), runs each through the one executor, keeps its lease alive while the
 * handler runs, and hands the executor's decisions to the outcome writer (fenced ack, retry,
 * fail).
 *
 * One round trip per batch: the acks of every handler that finished since the last call travel
 * in the same store call as the claim for the slots they freed (`DurableStore.step`). Two such
 * calls may be in flight, each claiming at most half the slots and reserving them until its
 * reply is handled, so Node runs the handlers of one while the store runs the other; handlers that
 * finish while both are in flight are acked by the next call, so the batch grows with the load.
 * Each call carries a request id (worker id + sequence): a call whose reply is lost (the
 * connection dropped after the store ran it) gets its leases back on the client's resend, or on
 * this worker's next call, without counting another delivery.
 */

import type { CancelledError } from "../../errors.js";
import type { TaskEventBus } from "../../events.js";
import type { TaskRecord } from "../../lifecycle/task-record.js";
import type { Instrumentation } from "../../observability/instrumentation.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { Clock } from "../../scheduling/clock.js";
import type { TokenBucketConfig } from "../../scheduling/token-bucket.js";
import type { DurableStore, WorkWaiter } from "../../stores/durable-store.js";
import type { AckRef, ClaimedTask, StepResult } from "../../stores/durable-types.js";
import type { RegisteredHandler } from "../backend.js";
import type { RunnerCounters } from "../counters.js";
import { AttemptExecutor } from "../executor.js";
import { within } from "../within.js";
import { ClaimReceipts } from "./claim-receipts.js";
import { ClaimSlots } from "./claim-slots.js";
import { recordOfClaim } from "./claimed-record.js";
import { LeaseKeeper } from "./lease-keeper.js";
import { OutcomeWriter, type PendingAck } from "./outcome-writer.js";
import type { PendingAnnouncements } from "./pending-announcements.js";
import { RunningAttempts } from "./running-attempts.js";
import { WorkWait } from "./work-wait.js";

export interface WorkerDeps {
  readonly store: DurableStore;
  readonly waiter: WorkWaiter;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly concurrency: number;
  readonly queueCaps: ReadonlyMap<string, { readonly concurrency: number }>;
  /** The manager's bucket, used when no global rate limits the claim script instead. */
  readonly rate: TokenBucketConfig | undefined;
  readonly handlers: ReadonlyMap<string, RegisteredHandler>;
  readonly isPaused: (queue: string) => boolean;
  readonly events: TaskEventBus;
  readonly instrumentation: Instrumentation;
  /** This process's totals for `stats()`: attempts started, outcomes written. */
  readonly counters: RunnerCounters;
  /** A task this process ran reached a terminal state in the store (for the stop report). */
  readonly onFinished: (record: TaskRecord) => void;
  /** This process's submits not yet announced `queued` (their replies still unread). */
  readonly announcements: PendingAnnouncements;
}

/** Longest idle block before re-checking delayed tasks and paused queues. */
const MAX_IDLE_MS = 5_000;
/** Pause after a failed claim (connection trouble) before the next one. */
const CLAIM_RETRY_MS = 250;
/**
 * Step calls in flight at once, each claiming at most its share of the slots, so that while
 * Redis runs one, Node runs the handlers of the other (measured: 2 beat 1, 3 and 4 on 2 cores).
 */
const STEPS_IN_FLIGHT = 2;

export class DurableWorker {
  readonly #deps: WorkerDeps;
  readonly #keeper: LeaseKeeper;
  readonly #executor: AttemptExecutor;
  readonly #writer: OutcomeWriter;
  /** The attempts running here; also the executor's outcome strategy. */
  readonly #running: RunningAttempts;
  readonly #slots: ClaimSlots;
  readonly #stopClaiming = new AbortController();
  readonly #receipts = new ClaimReceipts();
  #started = false;
  #claimsInFlight = 0;
  /** Step calls (acks and/or claim) in flight. */
  #stepsInFlight = 0;
  /** The blocking wait for work (no claims until it ends). */
  readonly #wait: WorkWait;
  /** Waits ended so far: a claim sent before the last one ended may have missed its work. */
  #waitsEnded = 0;
  /** A claim failed or the bucket is dry: no claims until the timer fires. */
  #pauseTimer: ReturnType<typeof setTimeout> | undefined;
  #pumpScheduled: ReturnType<typeof setImmediate> | undefined;
  #closed = false;
  #idleListeners: Array<() => void> = [];

  constructor(deps: WorkerDeps) {
    this.#deps = deps;
    this.#slots = new ClaimSlots({
      clock: deps.clock,
      concurrency: deps.concurrency,
      queueCaps: deps.queueCaps,
      rate: deps.rate,
      handlerQueues: () => [...deps.handlers.values()].map((registered) => registered.queue),
      isPaused: deps.isPaused,
    });
    this.#keeper = new LeaseKeeper(deps.store, {
      clock: deps.clock,
      onLost: (id, error) => this.#running.leaseLost(id, error),
      onError: (error) =>
        safeLog(deps.logger, "warn", { err: error }, "taskmill lease renewal failed; retrying"),
    });
    this.#writer = new OutcomeWriter({
      store: deps.store,
      clock: deps.clock,
      logger: deps.logger,
      instrumentation: deps.instrumentation,
      counters: deps.counters,
      onFinished: deps.onFinished,
      onChange: () => {
        this.#notifyIdleChange();
        this.#schedulePump();
      },
    });
    this.#wait = new WorkWait({
      waiter: deps.waiter,
      logger: deps.logger,
      stopped: this.#stopClaiming.signal,
      failed: () => this.#pauseFor(CLAIM_RETRY_MS),
      ended: () => {
        this.#waitsEnded++;
        this.#notifyIdleChange();
        this.#schedulePump();
      },
    });
    this.#running = new RunningAttempts({
      store: deps.store,
      logger: deps.logger,
      instrumentation: deps.instrumentation,
      keeper: this.#keeper,
      writer: this.#writer,
      end: (attempt, reason) => this.#executor.end(attempt, reason),
      released: (queue) => {
        this.#slots.ended(queue);
        this.#notifyIdleChange();
        this.#schedulePump();
      },
    });
    this.#executor = new AttemptExecutor({
      clock: deps.clock,
      random: deps.random,
      logger: deps.logger,
      events: deps.events,
      instrumentation: deps.instrumentation,
      counters: deps.counters,
      outcomes: this.#running,
    });
  }

  /** Handlers running now. */
  get running(): number {
    return this.#running.size;
  }

  runningIn(queue: string): number {
    return this.#slots.runningIn(queue);
  }

  /** Starts claiming; later calls (new handlers, resumed queues) just wake it. */
  start(): void {
    this.#started = true;
    this.wake();
  }

  /** Re-evaluates at once: a slot freed, a queue resumed, a handler registered. */
  wake(): void {
    // The wait blocks on the queues eligible when it began: a resumed queue or a new handler's
    // queue would otherwise wait for the blocking call's timeout.
    this.#wait.interrupt();
    if (this.#pauseTimer !== undefined) {
      clearTimeout(this.#pauseTimer);
      this.#pauseTimer = undefined;
    }
    this.#schedulePump();
  }

  /**
   * Stops claiming; running handlers go on. Resolves once no claim is in flight (their tasks
   * have started here) and the blocking wait has ended.
   */
  async stopClaiming(): Promise<void> {
    this.#stopClaiming.abort();
    this.wake();
    while (this.#claimsInFlight > 0 || this.#wait.waiting)
      await new Promise<void>((resolve) => this.#idleListeners.push(resolve));
  }

  /**
   * Resolves when every task running here has its outcome decided and written. A handler that
   * ignores its abort signal does not hold this up once its task's outcome is decided (it is
   * reported as abandoned, as in every store).
   */
  async idle(): Promise<void> {
    while (this.#running.hasUndecided() || this.#writer.pending > 0)
      await new Promise<void>((resolve) => this.#idleListeners.push(resolve));
  }

  /** Aborts the local attempt of `id`, if it runs here (the task was cancelled elsewhere). */
  abortLocal(id: string, reason: CancelledError): void {
    this.#running.abortLocal(id, reason);
  }

  /**
   * Stop now: aborts every running handler and hands its task back to the store at once (a
   * retry with no delay), so another process runs it. Waits at most `graceMs` for the store:
   * what it has not taken by then (hand-backs, and outcomes still being written) is
   * `unwritten`; those tasks run again once their leases lapse.
   */
  async handBackAll(graceMs: number): Promise<{ requeued: string[]; unwritten: string[] }> {
    const clock = this.#deps.clock;
    const deadline = clock.now() + graceMs;
    // A claim in flight to a frozen store never returns; its tasks are not started (`#claimed`).
    await within(this.stopClaiming(), graceMs, clock);
    const { handedBack, writes } = this.#running.handBackAll();
    await within(Promise.all(writes), deadline - clock.now(), clock);
    const unwritten = new Set(this.#writer.unwrittenIds());
    for (const entry of handedBack) if (!entry.written) unwritten.add(entry.id);
    return {
      requeued: handedBack.filter((entry) => entry.written).map((entry) => entry.id),
      unwritten: [...unwritten],
    };
  }

  /** Ids of handlers that have not settled (after a stop: the ones ignoring their abort). */
  unsettled(): string[] {
    return this.#running.unsettled();
  }

  close(): void {
    // Acks still waiting for the next step go out now, ahead of the connection's QUIT.
    if (!this.#closed)
      this.#writer.flush((acks, refs) =>
        this.#send(acks, refs, [...new Set(acks.map((ack) => ack.held.task.queue))], 0),
      );
    this.#closed = true;
    this.#writer.close();
    this.#keeper.stop();
    this.#executor.close();
    if (this.#pauseTimer !== undefined) clearTimeout(this.#pauseTimer);
    if (this.#pumpScheduled !== undefined) clearImmediate(this.#pumpScheduled);
    this.#pauseTimer = undefined;
    this.#pumpScheduled = undefined;
  }

  #notifyIdleChange(): void {
    const listeners = this.#idleListeners;
    this.#idleListeners = [];
    for (const listener of listeners) listener();
  }

  /** Pumps once at the end of this turn of the event loop, so finished handlers batch up. */
  #schedulePump(): void {
    if (this.#pumpScheduled !== undefined || this.#closed) return;
    this.#pumpScheduled = setImmediate(() => {
      this.#pumpScheduled = undefined;
      this.#pump();
    });
  }

  /**
   * Sends what is due: a step with the pending acks and a claim for the free slots, or the
   * acks alone while claiming is not possible (stopping, blocked on the markers, paused after
   * a failure, no free slot, or enough claims in flight).
   */
  #pump(): void {
    // With the local bucket, tokens are taken as tasks start: one claim at a time then.
    const limit = this.#slots.localRate ? 1 : STEPS_IN_FLIGHT;
    if (this.#closed || this.#stepsInFlight >= limit) return;
    let max = 0;
    let queues: string[] = [];
    if (
      this.#started &&
      !this.#stopClaiming.signal.aborted &&
      !this.#wait.waiting &&
      this.#pauseTimer === undefined
    ) {
      const claimable = this.#slots.claimable(
        this.#running.size + this.#writer.heldForWrite,
        limit,
      );
      if (claimable.tokenWaitMs > 0) this.#pauseFor(claimable.tokenWaitMs);
      max = claimable.max;
      queues = claimable.queues;
    }
    if (max === 0 && !this.#writer.hasAcks) return;
    const { acks, refs } = this.#writer.takeAcks();
    if (max === 0) queues = [...new Set(acks.map((ack) => ack.held.task.queue))];
    this.#send(acks, refs, queues, max);
    // Slots left over (the per-call cap): claim them in a second call right away.
    if (max > 0) this.#pump();
  }

  /** One step call: `acks`, then a claim of up to `max` (0: acks only). */
  #send(acks: PendingAck[], refs: AckRef[], queues: string[], max: number): void {
    const deps = this.#deps;
    const claiming = max > 0;
    const requestId = claiming ? this.#receipts.nextId() : undefined;
    const sentAt = deps.clock.now();
    const waitsEnded = this.#waitsEnded;
    // Receipts expire with their leases: older ones have nothing left to give back.
    const earlier = this.#receipts.unanswered(sentAt, deps.store.leaseMs);
    const unanswered = claiming ? earlier : [];
    this.#stepsInFlight++;
    if (claiming) {
      this.#claimsInFlight++;
      this.#slots.reserve(queues, max);
    }
    const call = deps.store.step(
      refs,
      queues,
      max,
      requestId === undefined ? {} : { requestId, unanswered },
    );
    const handled = call.then(
      (result) => {
        this.#stepsInFlight--;
        if (claiming) {
          this.#claimsInFlight--;
          this.#slots.reserve(queues, -max);
          this.#receipts.recovered(unanswered);
        }
        this.#writer.acked(acks, result.acks);
        if (claiming) this.#claimed(result, sentAt, waitsEnded !== this.#waitsEnded);
        this.#notifyIdleChange();
        this.#schedulePump();
      },
      (error: unknown) => {
        this.#stepsInFlight--;
        if (claiming) {
          this.#claimsInFlight--;
          this.#slots.reserve(queues, -max);
          // The store may have run it: the next claim asks for its leases back.
          if (requestId !== undefined) this.#receipts.lost(requestId, sentAt);
        }
        if (!this.#stopClaiming.signal.aborted || acks.length > 0)
          safeLog(deps.logger, "warn", { err: error }, "taskmill claim failed; retrying");
        this.#writer.ackFailed(acks);
        if (claiming && !this.#stopClaiming.signal.aborted) this.#pauseFor(CLAIM_RETRY_MS);
        this.#notifyIdleChange();
        this.#schedulePump();
      },
    );
    // A bug above must not surface as an unhandled rejection.
    this.#writer.track(
      handled.catch((error: unknown) =>
        safeLog(deps.logger, "error", { err: error }, "taskmill could not handle a step reply"),
      ),
    );
  }

  /**
   * A claim's reply: start its tasks, or decide how long to wait for work. `stale` when a wait
   * ended while the claim was in flight: the wake-up it consumed may be for work this claim ran
   * too early to see, so the next claim goes out instead of a wait nobody would wake.
   */
  #claimed(result: StepResult, sentAt: number, stale: boolean): void {
    // A reply that arrives after the stop: nothing starts here any more; the leases lapse and
    // the tasks run elsewhere.
    if (this.#closed) return;
    // The claim script ended these instead of leasing them: poison to the DLQ, TTL passed.
    this.#deps.counters.failed += result.poisoned;
    this.#deps.counters.expired += result.expired;
    for (const task of result.tasks) this.#start(task, sentAt);
    if (result.tasks.length > 0 || this.#stopClaiming.signal.aborted) return;
    if (result.rateWaitMs > 0) {
      this.#pauseFor(result.rateWaitMs);
      return;
    }
    if (this.#wait.waiting || stale) return;
    const untilDue =
      result.nextDueAt === undefined ? MAX_IDLE_MS : Math.max(1, result.nextDueAt - result.now);
    const queues = this.#slots.eligibleQueues();
    if (queues.length === 0) return;
    this.#wait.begin(queues, Math.min(MAX_IDLE_MS, untilDue));
  }

  /** No claims for `ms` (acks still go out); a `wake()` ends the pause early. */
  #pauseFor(ms: number): void {
    if (this.#pauseTimer !== undefined || this.#closed) return;
    this.#pauseTimer = setTimeout(
      () => {
        this.#pauseTimer = undefined;
        this.#schedulePump();
      },
      Math.max(1, ms),
    );
  }

  /** A claimed task: its local record, then an attempt run by the one executor. */
  #start(task: ClaimedTask, claimedAt: number): void {
    const deps = this.#deps;
    this.#keeper.hold(task, claimedAt);
    deps.announcements.deliver(task.id);
    const record = recordOfClaim(task, deps.handlers.get(task.name));
    const active = this.#running.add(task, record);
    this.#slots.started(task.queue);
    // Tokens come from one Redis counter (INCR): they increase across attempts and processes.
    active.attempt = this.#executor.run(record, task.fence, this.#deps.clock.now());
  }
}
