import type { TaskHandle } from "../../types.js";

/** Where a durable handle's outcome comes from (the durable engine). */
export interface ResultSource {
  result(id: string): Promise<unknown>;
}

/**
 * The handle `submit` returns in durable mode. `result()` follows the task through the store, so it
 * works whichever process runs the task, and even after this process submitted and the task
 * finished long ago (while its record is retained).
 */
export class DurableTaskHandle<R> implements TaskHandle<R> {
  readonly #engine: ResultSource;
  #result: Promise<R> | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly queue: string,
    engine: ResultSource,
  ) {
    this.#engine = engine;
  }

  result(): Promise<R> {
    this.#result ??= this.#engine.result(this.id) as Promise<R>;
    return this.#result;
  }
}
