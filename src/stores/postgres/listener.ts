/**
 * A dedicated connection that LISTENs on one channel: the work waiter's and the feed reader's.
 * It LISTENs from its first wait on, not from its opening: a feed nobody reads (a worker
 * process without result subscribers) never listens, so the writers' NOTIFYs wake no backend
 * and no client for it (measured: that wake-up per claim cost a worker throughput on 2 cores).
 * A notification queued before anyone waits is remembered (`pending`), so a NOTIFY that lands
 * between a reader's empty query and its wait is not lost. A broken connection is dropped and
 * opened again at the next use; since notifications sent meanwhile are gone, a fresh
 * connection counts as one pending notification (the caller looks again).
 */
import type { Notification } from "pg";

/** A connection of its own: a `pg.Client`, or a client checked out of the user's pool. */
export interface DedicatedClient {
  query(text: string, values?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  on(event: "notification", listener: (message: Notification) => void): unknown;
  on(event: "error", listener: (error: Error) => void): unknown;
  on(event: "end", listener: () => void): unknown;
}

/** Opens a dedicated connection; `close` ends (or releases and destroys) it. */
export type OpenDedicated = () => Promise<{
  readonly client: DedicatedClient;
  close(): void;
}>;

export class ChannelListener {
  readonly #open: OpenDedicated;
  readonly #channel: string;
  #connection: Promise<{ readonly client: DedicatedClient; close(): void }> | undefined;
  /** The connection whose LISTEN was sent (a new connection listens again). */
  #listening: Promise<void> | undefined;
  #pending = true;
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(open: OpenDedicated, channel: string) {
    this.#open = open;
    this.#channel = channel;
  }

  /** The listening connection, opened (and LISTENing) if needed. */
  async client(): Promise<DedicatedClient> {
    if (this.#closed) throw new Error("the listener is closed");
    this.#connection ??= this.#connect();
    return (await this.#connection).client;
  }

  /**
   * The listening connection: LISTEN is sent once per connection, before the first wait (and
   * before the first read of a feed, so that nothing committed after that read is missed).
   */
  async listen(): Promise<DedicatedClient> {
    const connection = this.#connection ?? this.#connect();
    this.#connection = connection;
    if (this.#listening === undefined) {
      const listening = connection.then(async ({ client }) => {
        await client.query(`LISTEN "${this.#channel}"`);
        this.#pending = true;
      });
      this.#listening = listening;
      listening.catch(() => {
        if (this.#listening === listening) this.#listening = undefined;
      });
    }
    await this.#listening;
    return (await connection).client;
  }

  /** Whether a notification arrived since the last `take()`; clears it. */
  take(): boolean {
    const pending = this.#pending;
    this.#pending = false;
    return pending;
  }

  /**
   * Resolves at the next notification (at once if one is pending), after `timeoutMs`, when
   * `signal` aborts or at `close()`; true when a notification came.
   */
  async next(timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    await this.listen();
    if (this.take()) return true;
    if (this.#closed || signal?.aborted) return false;
    return new Promise<boolean>((resolve) => {
      const done = (woken: boolean) => {
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#wake = undefined;
        if (woken) this.#pending = false;
        resolve(woken);
      };
      const onAbort = () => done(false);
      const timer = setTimeout(() => done(false), Math.max(1, timeoutMs));
      timer.unref?.();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#wake = () => done(true);
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Ends any wait (it resolves false) and closes the connection. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const wake = this.#wake;
    this.#wake = undefined;
    this.#pending = false;
    const connection = this.#connection;
    this.#connection = undefined;
    connection?.then(
      (c) => c.close(),
      () => {},
    );
    if (wake !== undefined) {
      this.#pending = false;
      wake();
    }
  }

  async #connect(): Promise<{ readonly client: DedicatedClient; close(): void }> {
    try {
      const connection = await this.#open();
      const drop = () => {
        if (this.#connection !== undefined) this.#connection = undefined;
        this.#listening = undefined;
        connection.close();
        // Whatever was sent while we were away is lost: make the caller look again.
        this.#notify();
      };
      connection.client.on("notification", (message) => {
        if (message.channel === this.#channel) this.#notify();
      });
      connection.client.on("error", drop);
      connection.client.on("end", drop);
      if (this.#closed) connection.close();
      this.#pending = true;
      return connection;
    } catch (error) {
      this.#connection = undefined;
      throw error;
    }
  }

  #notify(): void {
    this.#pending = true;
    this.#wake?.();
  }
}
