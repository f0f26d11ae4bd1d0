/**
 * The cross-process result stream: one blocking reader of the events stream per process. It
 * feeds result subscribers, lifecycle events and `task.result()` promises, whichever process
 * ran the task. The reader's starting point is fixed before the first submit is accepted, so a
 * subscriber (or a `result()` call) made before a submit cannot miss that task's result.
 */
import type { Redis } from "ioredis";
import { isTerminal } from "../../../lifecycle/states.js";
import { type Logger, safeLog } from "../../../observability/logger.js";
import { readEvents } from "../events.js";
import type { TaskEvent } from "../types.js";

/** Longest a single XREAD blocks, so a stop is noticed promptly. */
const BLOCK_MS = 1_000;
/** Pause after a failed read (connection trouble) before trying again. */
const RETRY_MS = 250;

export type EventHandler = (event: TaskEvent) => void;

export class ResultFeed {
  readonly #connection: Redis;
  readonly #key: string;
  readonly #logger: Logger;
  readonly #onEvent: EventHandler;
  readonly #waiters = new Map<string, Array<(event: TaskEvent) => void>>();
  #cursor = "0";
  #stopped = false;
  #loop: Promise<void> | undefined;

  /** @param connection owned: used only for blocking reads, quit by `stop()` */
  constructor(connection: Redis, key: string, logger: Logger, onEvent: EventHandler) {
    this.#connection = connection;
    connection.on("error", () => {}); // surfaced as failed reads, retried
    this.#key = key;
    this.#logger = logger;
    this.#onEvent = onEvent;
  }

  /** Fixes the starting point at the stream's current end, then starts reading. */
  async start(): Promise<void> {
    const last = (await this.#connection.call(
      "XREVRANGE",
      this.#key,
      "+",
      "-",
      "COUNT",
      1,
    )) as Array<[string, unknown]> | null;
    this.#cursor = last?.[0]?.[0] ?? "0";
    this.#loop = this.#run();
  }

  /** Resolves with the terminal event of task `id` (registered before anything can arrive). */
  waitFor(id: string): { readonly promise: Promise<TaskEvent>; readonly cancel: () => void } {
    let resolve!: (event: TaskEvent) => void;
    const promise = new Promise<TaskEvent>((res) => {
      resolve = res;
    });
    const list = this.#waiters.get(id) ?? [];
    list.push(resolve);
    this.#waiters.set(id, list);
    return {
      promise,
      cancel: () => {
        const current = this.#waiters.get(id);
        if (current === undefined) return;
        const rest = current.filter((fn) => fn !== resolve);
        if (rest.length === 0) this.#waiters.delete(id);
        else this.#waiters.set(id, rest);
      },
    };
  }

  /** Delivers a terminal event found another way (read from the task's record). */
  settle(event: TaskEvent): void {
    const list = this.#waiters.get(event.id);
    if (list === undefined) return;
    this.#waiters.delete(event.id);
    for (const resolve of list) resolve(event);
  }

  /** Stops reading and closes the connection; pending `waitFor` promises never settle. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#connection.disconnect();
    await this.#loop;
    this.#waiters.clear();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let events: TaskEvent[];
      try {
        events = await readEvents(this.#connection, this.#key, this.#cursor, {
          count: 500,
          blockMs: BLOCK_MS,
        });
      } catch (error) {
        if (this.#stopped) return;
        safeLog(
          this.#logger,
          "warn",
          { err: error },
          "taskmill result stream read failed; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
        continue;
      }
      for (const event of events) {
        this.#cursor = event.streamId;
        try {
          this.#onEvent(event);
        } catch (error) {
          safeLog(this.#logger, "error", { err: error }, "taskmill result event handling failed");
        }
        if (isTerminal(event.status)) this.settle(event);
      }
    }
  }
}
