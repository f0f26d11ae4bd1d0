/**
 * The cross-process result stream: one blocking reader of the events stream per process. It
 * feeds result subscribers, lifecycle events and `task.result()` promises, whichever process
 * ran the task.
 *
 * It reads only while someone here needs it (a subscriber, a waiting `result()`, an event
 * listener): reading every event costs a worker about a third of its throughput, and a worker
 * learns of cancellations through its lease renewals anyway. When demand appears, the reader
 * first fixes its starting point at the stream's current end, and `ensureLive()` lets a submit
 * wait for that, so a subscriber made before a submit cannot miss its result.
 */
import { isTerminal } from "../../lifecycle/states.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { DurableStore, EventReader } from "../../stores/durable-store.js";
import type { TaskEvent } from "../../stores/durable-types.js";
import { toTaskResult } from "../../stores/snapshots.js";
import type { TaskResult } from "../../types.js";

/** Longest a single XREAD blocks, so a stop (or the end of demand) is noticed promptly. */
const BLOCK_MS = 1_000;
/** Pause after a failed read (connection trouble) before trying again. */
const RETRY_MS = 250;

export type EventHandler = (event: TaskEvent) => void;

/** A terminal event as a subscriber's result, carrying its stream position for resumes. */
export function resultOf(event: TaskEvent): TaskResult | undefined {
  const result = toTaskResult(event);
  return result === undefined ? undefined : { ...result, eventId: event.streamId };
}

/**
 * Up to `count` feed entries after position `after`, read without blocking, as the results
 * among them and the position of the last entry read.
 */
export async function readResultsAfter(
  store: DurableStore,
  after: string,
  count: number,
): Promise<{ results: TaskResult[]; last: string | undefined }> {
  const events = await store.readFeed(after, count);
  const results: TaskResult[] = [];
  for (const event of events) {
    const result = resultOf(event);
    if (result !== undefined) results.push(result);
  }
  return { results, last: events.at(-1)?.streamId };
}

export class ResultFeed {
  readonly #reader: EventReader;
  readonly #logger: Logger;
  readonly #onEvent: EventHandler;
  readonly #needed: () => boolean;
  readonly #waiters = new Map<string, Array<(event: TaskEvent) => void>>();
  #cursor = "0";
  #stopped = false;
  #loop: Promise<void> | undefined;
  /** Resolvers of `ensureLive()` calls waiting for the reader to fix its cursor. */
  #liveWaiters: Array<() => void> = [];
  #parked = false;
  #unpark: (() => void) | undefined;

  /**
   * @param reader owned: used only for blocking reads, closed by `stop()`
   * @param needed whether anyone in this process needs results or events right now
   */
  constructor(reader: EventReader, logger: Logger, onEvent: EventHandler, needed: () => boolean) {
    this.#reader = reader;
    this.#logger = logger;
    this.#onEvent = onEvent;
    this.#needed = needed;
  }

  /** Fixes the starting point at the stream's current end, then starts the reader. */
  async start(): Promise<void> {
    await this.#fixCursor();
    this.#loop = this.#run();
  }

  /**
   * Resolves once the reader is live (its cursor fixed after this call began) if anyone needs
   * it; at once if nobody does or it already reads.
   */
  ensureLive(): Promise<void> {
    if (this.#stopped || !this.#parked || !this.#needed()) return Promise.resolve();
    return new Promise((resolve) => {
      this.#liveWaiters.push(resolve);
      this.#unpark?.();
    });
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

  /** Ids of the tasks whose `result()` waits here. */
  get waitingIds(): string[] {
    return [...this.#waiters.keys()];
  }

  /** True while some `result()` waits here. */
  get hasWaiters(): boolean {
    return this.#waiters.size > 0;
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
    this.#unpark?.();
    this.#reader.close();
    await this.#loop;
    this.#waiters.clear();
    for (const resolve of this.#liveWaiters.splice(0)) resolve();
  }

  async #fixCursor(): Promise<void> {
    this.#cursor = await this.#reader.end();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      if (!this.#needed() && this.#liveWaiters.length === 0) {
        await this.#park();
        continue;
      }
      let events: TaskEvent[];
      try {
        events = await this.#reader.read(this.#cursor, 500, BLOCK_MS);
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

  /** Waits (reading nothing) until demand returns, then restarts from the stream's end. */
  async #park(): Promise<void> {
    this.#parked = true;
    await new Promise<void>((resolve) => {
      this.#unpark = resolve;
    });
    this.#unpark = undefined;
    while (!this.#stopped) {
      try {
        await this.#fixCursor();
        break;
      } catch (error) {
        safeLog(
          this.#logger,
          "warn",
          { err: error },
          "taskmill result stream unreachable; retrying",
        );
        await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      }
    }
    this.#parked = false;
    for (const resolve of this.#liveWaiters.splice(0)) resolve();
  }
}
