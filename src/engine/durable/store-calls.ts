/**
 * The deadline model of the durable engine's calls to its store (submits and reads): each call,
 * all its steps together (waiting for the first connection, making sure the result reader is
 * live, the store's own reply), settles within `backend.callTimeoutMs`, whatever the store does
 * (down, restarting, frozen). And while the store is not answering, at most
 * `backend.maxPendingCalls` calls may wait for it at once: past that a call is refused at once,
 * so an outage cannot pile up callers and payloads in memory.
 */
import { BackendUnavailableError } from "../../errors.js";
import type { Clock } from "../../scheduling/clock.js";
import type { DurableStore, StoreConnection } from "../../stores/durable-store.js";
import { within } from "../within.js";
import type { Connections, StoreSession } from "./store-session.js";
import { unavailableOnConnectionError } from "./store-session.js";

/** What bounding the calls needs. */
export interface StoreCallSettings {
  readonly session: () => StoreSession;
  readonly clock: Clock;
  /** The store's name in messages ("redis"). */
  readonly storeName: string;
  readonly callTimeoutMs: number;
  readonly maxPendingCalls: number;
}

/** Runs calls to the store within their deadline and the bound on waiting calls. */
export class StoreCalls {
  readonly #settings: StoreCallSettings;
  /** Calls sent and not yet settled by the store (a timed-out one counts until it does). */
  #pending = 0;

  constructor(settings: StoreCallSettings) {
    this.#settings = settings;
  }

  /**
   * Runs `steps` with the connections, all of it within `callTimeoutMs`. Past it, or when the
   * store cannot be reached, rejects with `BackendUnavailableError` naming `what`; `unsure`
   * tells the caller what may still have happened (a submit may have been stored).
   */
  async run<T>(
    what: string,
    unsure: string,
    steps: (connections: Connections) => Promise<T>,
  ): Promise<T> {
    const { session, clock, callTimeoutMs, storeName } = this.#settings;
    this.#admit(what);
    this.#pending++;
    const running = session()
      .connected(callTimeoutMs)
      .then((connections) =>
        unavailableOnConnectionError(connections.connection, () => steps(connections)),
      );
    running.then(this.#settled, this.#settled);
    const outcome = await within(running, callTimeoutMs, clock);
    if (outcome.done) return running;
    throw new BackendUnavailableError(
      `no answer from ${storeName} within ${callTimeoutMs} ms (${what}, connection ${this.#status()})${unsure}`,
    );
  }

  /** A read: one store call within the deadline. */
  read<T>(what: string, call: (store: DurableStore) => Promise<T>): Promise<T> {
    return this.run(what, "", ({ store }) => call(store));
  }

  readonly #settled = (): void => {
    this.#pending--;
  };

  /** Refuses a call at once when too many already wait for a store that is not answering. */
  #admit(what: string): void {
    const { maxPendingCalls, storeName } = this.#settings;
    if (this.#pending < maxPendingCalls || this.#answering()) return;
    throw new BackendUnavailableError(
      `${storeName} is not answering (connection ${this.#status()}) and ${this.#pending} calls already wait for it (backend.maxPendingCalls): ${what} refused at once`,
    );
  }

  #answering(): boolean {
    const current = this.#settings.session().current;
    return (
      current !== undefined &&
      current.connection.status === "connected" &&
      !current.liveness.unresponsive
    );
  }

  #status(): StoreConnection["status"] | "not connected yet" {
    return this.#settings.session().current?.connection.status ?? "not connected yet";
  }
}
