/**
 * Shared helpers for tests that drive a TaskManager on a ManualClock. Not a test file itself.
 */
import {
  ManualClock,
  type TaskEventName,
  TaskManager,
  type TaskManagerOptions,
  type TaskSnapshot,
} from "taskmill";

/** A promise with its resolve/reject exposed, for handlers the test settles by hand. */
export interface Deferred<T = unknown> {
  readonly promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

export function deferred<T = unknown>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A manager on a fresh ManualClock starting at t=0, with sequential ids t1, t2, ... */
export function manual(options: Omit<TaskManagerOptions, "clock"> = {}): {
  mill: TaskManager;
  clock: ManualClock;
} {
  const clock = new ManualClock(0);
  let next = 0;
  const mill = new TaskManager({ createId: () => `t${++next}`, ...options, clock });
  return { mill, clock };
}

/** Current status of a task, failing loudly if it is unknown. */
export async function statusOf(mill: TaskManager, id: string): Promise<TaskSnapshot["status"]> {
  const snapshot = await mill.get(id);
  if (snapshot === undefined) throw new Error(`task ${id} is unknown`);
  return snapshot.status;
}

/** Records every `(event, task id)` pair the manager emits, in order. */
export function recordEvents(
  mill: TaskManager,
  events: readonly TaskEventName[] = [
    "queued",
    "started",
    "retrying",
    "succeeded",
    "failed",
    "cancelled",
    "expired",
  ],
): Array<{ event: TaskEventName; id: string }> {
  const seen: Array<{ event: TaskEventName; id: string }> = [];
  for (const event of events)
    mill.on(event, (payload) => {
      if ("task" in payload) seen.push({ event, id: payload.task.id });
    });
  return seen;
}

/** The settled outcome of a promise, without unhandled-rejection noise. */
export async function outcome<T>(
  promise: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** Lets pending promise callbacks run without moving the manual clock. */
export function flush(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A handler-side sleep on the manual clock (what `setTimeout` would be in production). */
export function sleep(clock: { setTimer(cb: () => void, ms: number): unknown }, ms: number) {
  return new Promise<void>((resolve) => clock.setTimer(resolve, ms));
}
