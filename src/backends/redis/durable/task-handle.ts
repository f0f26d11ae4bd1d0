import type { TaskHandle } from "../../../types.js";
import type { DurableEngine } from "./durable-engine.js";

/**
 * The handle `submit` returns in durable mode. `result()` follows the task through Redis, so it
 * works whichever process runs the task, and even after this process submitted and the task
 * finished long ago (while its record is retained).
 */
export class DurableTaskHandle<R> implements TaskHandle<R> {
  readonly #engine: DurableEngine;
  #result: Promise<R> | undefined;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly queue: string,
    engine: DurableEngine,
  ) {
    this.#engine = engine;
  }

  result(): Promise<R> {
    this.#result ??= this.#engine.result(this.id) as Promise<R>;
    return this.#result;
  }
}
