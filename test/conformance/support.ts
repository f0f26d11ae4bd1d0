/**
 * What every conformance test shares: the store fixture contract, the ONE table of the ways
 * stores may legitimately differ, a manager factory that stops every manager after each test,
 * and small polling helpers. Not a test file itself.
 *
 * Tests branch only on `ctx.differences` (never on the fixture's name), so a new store joins by
 * declaring a fixture with `durable: true | false` and nothing else.
 */
import {
  type SubmitOptions,
  type TaskContext,
  type TaskEventName,
  TaskFailedError,
  type TaskHandle,
  TaskManager,
  type TaskManagerOptions,
  type TaskResult,
  type TaskSnapshot,
} from "taskmill";
import { afterAll, afterEach, beforeAll } from "vitest";

/** One store the suite runs against. */
export interface StoreFixture {
  /** Shown in the suite's title. */
  readonly name: string;
  /** A durable store (tasks outlive the process, shared by processes) or an in-process one. */
  readonly durable: boolean;
  /** Called once before the suite (start a server, ...). */
  setup(): Promise<void>;
  /** Called once after the suite (after every manager stopped). */
  teardown(): Promise<void>;
  /**
   * The `backend` option of a manager on a FRESH, isolated namespace: each call gives one that
   * no other call sees (e.g. a unique Redis `prefix`). Pass the same value to two managers to
   * make them share a store (two processes).
   */
  backend(): TaskManagerOptions["backend"];
}

/**
 * The documented differences between an in-process store and a durable one (SPEC.md,
 * docs/durable-mode.md "Differences from memory mode"). The only place the suite may branch.
 */
export interface StoreDifferences {
  /**
   * Memory: each attempt runs at most once. Durable: at-least-once (a task may run again after
   * a lost lease), so handlers must be idempotent.
   */
  readonly delivery: "at-most-once" | "at-least-once";
  /** `mill.run(fn)` works; else it rejects with `UnsupportedError` (a closure cannot be stored). */
  readonly runClosures: boolean;
  /**
   * A submit naming a task with no handler in this manager: `refused` with
   * `HandlerNotFoundError` (memory), or `accepted` (durable: another process may hold it).
   */
  readonly unregisteredSubmit: "refused" | "accepted";
  /**
   * What a stop does to a running task it aborts: ends it `cancelled` (`report.cancelled`), or
   * hands it back to the store (`report.requeued`) for another process to run.
   */
  readonly abortedRunning: "cancelled" | "requeued";
  /**
   * What a stop does to tasks that have not started: memory runs them (graceful) or cancels
   * them (stopNow, or at the deadline); durable leaves them in the store for other processes.
   */
  readonly unstartedOnStop: "run-or-cancel" | "kept";
  /**
   * How `result()` rejects for a failed task: with the error the handler threw (or the
   * `TimeoutError`) itself, or with a `TaskFailedError` carrying its name, message and code as
   * data (durable: the error object stayed in the worker).
   */
  readonly failureRejection: "thrown-error" | "task-failed-error";
}

const IN_PROCESS: StoreDifferences = Object.freeze({
  delivery: "at-most-once",
  runClosures: true,
  unregisteredSubmit: "refused",
  abortedRunning: "cancelled",
  unstartedOnStop: "run-or-cancel",
  failureRejection: "thrown-error",
});

const DURABLE: StoreDifferences = Object.freeze({
  delivery: "at-least-once",
  runClosures: false,
  unregisteredSubmit: "accepted",
  abortedRunning: "requeued",
  unstartedOnStop: "kept",
  failureRejection: "task-failed-error",
});

/** The differences that apply to a store, keyed by `durable`. */
export function differencesOf(fixture: Pick<StoreFixture, "durable">): StoreDifferences {
  return fixture.durable ? DURABLE : IN_PROCESS;
}

/** What every topic of the suite receives. */
export interface SuiteContext {
  readonly fixture: StoreFixture;
  readonly differences: StoreDifferences;
  /**
   * A manager on a fresh namespace (or on `options.backend`, to share one with another
   * manager), `concurrency: 2` and no retries unless `options` says otherwise. Stopped
   * (`stopNow`) after the test.
   */
  manager(options?: TaskManagerOptions): TaskManager;
  /** A deferred that is resolved after the test, in case the test did not settle it. */
  gate<T = void>(): Deferred<T>;
}

/**
 * Declares the fixture's setup/teardown and the after-each cleanup in the current `describe`,
 * and returns the context handed to every topic.
 */
export function useStore(fixture: StoreFixture): SuiteContext {
  const managers: TaskManager[] = [];
  const gates: Array<Deferred<unknown>> = [];
  beforeAll(() => fixture.setup());
  afterEach(async () => {
    // Stop first (so released handlers start nothing new), then let hanging handlers go.
    await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
    for (const gate of gates.splice(0)) gate.resolve(undefined);
  });
  afterAll(() => fixture.teardown());
  return {
    fixture,
    differences: differencesOf(fixture),
    manager(options = {}) {
      const mill = new TaskManager({
        concurrency: 2,
        retry: { maxRetries: 0 },
        ...options,
        backend: options.backend ?? fixture.backend(),
      });
      managers.push(mill);
      return mill;
    },
    gate<T = void>() {
      const gate = deferred<T>();
      gates.push(gate as Deferred<unknown>);
      return gate;
    },
  };
}

import { type Deferred, deferred } from "../support/harness.js";

export { type Deferred, deferred };

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `predicate` every `everyMs` until it returns true; throws (naming `what`) after
 * `timeoutMs`. Tests wait for behaviour with this, never for a fixed time.
 */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs = 5_000,
  what = "condition",
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(`waitFor: ${what} not met within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

/** The task's snapshot, failing loudly if the store does not know it. */
export async function snapshotOf(mill: TaskManager, id: string): Promise<TaskSnapshot> {
  const snapshot = await mill.get(id);
  if (snapshot === undefined) throw new Error(`task ${id} is unknown`);
  return snapshot;
}

export async function statusOf(mill: TaskManager, id: string): Promise<TaskSnapshot["status"]> {
  return (await snapshotOf(mill, id)).status;
}

/** Waits until task `id` has `status`. */
export function waitForStatus(
  mill: TaskManager,
  id: string,
  status: TaskSnapshot["status"],
  timeoutMs = 5_000,
): Promise<void> {
  return waitFor(
    async () => (await mill.get(id))?.status === status,
    timeoutMs,
    `task ${id} ${status}`,
  );
}

/** The settled outcome of a promise, without unhandled-rejection noise. */
export async function settle<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** The rejection of `promise` (fails if it resolves). */
export async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  const outcome = await settle(promise);
  if (outcome.ok) throw new Error(`expected a rejection, got ${JSON.stringify(outcome.value)}`);
  return outcome.error;
}

/**
 * What a user can rely on about a failed task's rejection in every store: its `name`,
 * `message` and `code`, read from the thrown error itself (in-process) or from the
 * `TaskFailedError` that carries them (durable).
 */
export function failureInfo(
  differences: StoreDifferences,
  error: unknown,
): { name: string; message: string; code: string | undefined } {
  if (differences.failureRejection === "task-failed-error") {
    if (!(error instanceof TaskFailedError))
      throw new Error(`expected a TaskFailedError, got ${String(error)}`);
    return { name: error.errorName, message: error.message, code: error.errorCode };
  }
  if (!(error instanceof Error)) throw new Error(`expected an Error, got ${String(error)}`);
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    code: typeof code === "string" ? code : undefined,
  };
}

export { recordEvents } from "../support/harness.js";

/** The event names recorded for one task, in order. */
export function eventsOf(seen: ReadonlyArray<{ event: TaskEventName; id: string }>, id: string) {
  return seen.filter((entry) => entry.id === id).map((entry) => entry.event);
}

/** Reads results from a subscription into an array as they come (until it ends). */
export function collect<R>(subscription: AsyncIterable<TaskResult<R>>): TaskResult<R>[] {
  const seen: TaskResult<R>[] = [];
  void (async () => {
    for await (const result of subscription) seen.push(result);
  })().catch(() => {});
  return seen;
}

/** Every task of a store, paging through `list` (optionally filtered). */
export async function listAll(
  mill: TaskManager,
  options: Parameters<TaskManager["list"]>[0] = {},
): Promise<TaskSnapshot[]> {
  const tasks: TaskSnapshot[] = [];
  let cursor: string | undefined;
  do {
    const page = await mill.list({ ...options, ...(cursor === undefined ? {} : { cursor }) });
    tasks.push(...page.tasks);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tasks;
}

// ---------------------------------------------------------------------------------------------
// API being added now (SPEC "One engine, many stores"): not in the types yet. Every cast the
// suite needs for it lives here, so `npm run typecheck` passes before and after it lands.
// ---------------------------------------------------------------------------------------------

/** One item of `mill.submitMany`. */
export interface SubmitManyItem {
  readonly name: string;
  readonly payload?: unknown;
  readonly options?: SubmitOptions | Record<string, unknown>;
}

/** `mill.submitMany(items)`: all or nothing; the handles in order. */
export function submitMany(
  mill: TaskManager,
  items: readonly SubmitManyItem[],
): Promise<TaskHandle[]> {
  const method = (mill as unknown as { submitMany?: unknown }).submitMany;
  if (typeof method !== "function")
    return Promise.reject(new TypeError("mill.submitMany() does not exist"));
  return (method as (items: readonly SubmitManyItem[]) => Promise<TaskHandle[]>).call(mill, items);
}

/** `ctx.fence`: the attempt's fencing token. */
export function fenceOf(ctx: TaskContext): unknown {
  return (ctx as unknown as { fence?: unknown }).fence;
}
