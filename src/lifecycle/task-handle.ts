import type { TaskHandle } from "../types.js";
import type { Deferred, TaskRecord } from "./task-record.js";

/** The handle `submit` and `run` return in memory mode: a view onto the task's record. */
export class MemoryTaskHandle<R> implements TaskHandle<R> {
  readonly #record: TaskRecord;

  constructor(record: TaskRecord) {
    this.#record = record;
  }

  get id(): string {
    return this.#record.id;
  }

  get name(): string {
    return this.#record.name;
  }

  get queue(): string {
    return this.#record.queue;
  }

  result(): Promise<R> {
    const record = this.#record;
    switch (record.status) {
      case "succeeded":
        return Promise.resolve(record.value as R);
      case "failed":
      case "cancelled":
      case "expired":
        return Promise.reject(record.error);
      default:
        record.outcome ??= promiseWithResolvers();
        return record.outcome.promise as Promise<R>;
    }
  }
}

/** `Promise.withResolvers()`, which Node 20 lacks. */
function promiseWithResolvers(): Deferred {
  let resolve!: (value: unknown) => void;
  let reject!: (reason?: unknown) => void;
  const promise = new Promise<unknown>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
