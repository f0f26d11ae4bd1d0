/**
 * A durable manager's hold on its store: connecting (retried until the store answers), the
 * pieces that live as long as the connection (the result feed, the work waiter, the reaper),
 * a bounded wait for callers while it connects, and closing everything in order.
 */
import { BackendUnavailableError, TaskmillError } from "../../errors.js";
import { isTerminal } from "../../lifecycle/states.js";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { ResolvedOptions } from "../../options.js";
import { connectStore, type DurableBackend } from "../../stores/connect.js";
import type { DurableStore, StoreConnection, WorkWaiter } from "../../stores/durable-store.js";
import type { TaskEvent } from "../../stores/durable-types.js";
import { storedEvent } from "./event-relay.js";
import { Liveness } from "./liveness.js";
import { Reachability } from "./reachability.js";
import { Reaper } from "./reaper.js";
import { ResultFeed } from "./result-feed.js";
import { untilAnswered } from "./until-answered.js";

/** What a connected session holds. */
export interface Connections {
  readonly connection: StoreConnection;
  readonly liveness: Liveness;
  readonly store: DurableStore;
  readonly feed: ResultFeed;
  readonly waiter: WorkWaiter;
  readonly reaper: Reaper;
}

export interface StoreSessionDeps {
  readonly backend: DurableBackend;
  readonly options: ResolvedOptions;
  readonly logger: Logger;
  /** Every event of the store's feed, while someone here needs them. */
  readonly onEvent: (event: TaskEvent) => void;
  /** Whether anyone in this process needs events now (besides `result()` waiters). */
  readonly needsEvents: () => boolean;
  /** Tasks this process's reaper dead-lettered as poison. */
  readonly onPoisoned: (count: number) => void;
  /** Connected: the engine may start its worker. */
  readonly onConnected: (connections: Connections) => void;
  /** An outage began: the first failure to reach the store since it was last reached. */
  readonly onOutage: (error: TaskmillError, first: boolean) => void;
}

export class StoreSession {
  readonly #deps: StoreSessionDeps;
  /** Resolves once connected and reading results; rejects if setup failed. */
  readonly ready: Promise<Connections>;
  #current: Connections | undefined;
  /** What connecting opened, dropped by `close()` if the store never answered. */
  #pending: { connection?: StoreConnection; feed?: ResultFeed } = {};
  #closed = false;
  /** The store's most recent connection failure, for fast failures with their cause. */
  readonly reachability: Reachability;

  constructor(deps: StoreSessionDeps) {
    this.#deps = deps;
    this.reachability = new Reachability({
      storeName: deps.backend.type,
      target: () => this.#pending.connection?.target,
      onOutage: deps.onOutage,
    });
    this.ready = this.#connect();
    // Failures surface on the first call that needs the store, and once as an `error` event;
    // never as an unhandled rejection.
    this.ready.catch((error: unknown) => {
      safeLog(deps.logger, "error", { err: error }, "taskmill could not set up the store");
      if (error instanceof TaskmillError && !this.#closed) this.reachability.fatal(error);
    });
  }

  /** The connections, if connected and not closed. */
  get current(): Connections | undefined {
    return this.#closed ? undefined : this.#current;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * The connections, or `BackendUnavailableError` if the store has not answered within
   * `timeoutMs` (it may be down at start: connecting goes on meanwhile).
   */
  connected(timeoutMs: number): Promise<Connections> {
    if (this.#closed)
      return Promise.reject(
        new BackendUnavailableError("the manager has stopped: its store connections are closed"),
      );
    if (this.#current !== undefined) return Promise.resolve(this.#current);
    // Refused or unresolvable just now: say so at once, with the cause, rather than wait out
    // the deadline for a connection that is not coming yet.
    const failure = this.reachability.failure();
    if (failure !== undefined) return Promise.reject(failure);
    const next = this.reachability.nextFailure();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new BackendUnavailableError(
              `no answer from ${this.#deps.backend.type} within ${timeoutMs} ms (not connected yet)`,
            ),
          ),
        timeoutMs,
      );
    });
    const nextFailure = next.failure.then((error) => Promise.reject(error));
    return Promise.race([this.ready, timeout, nextFailure]).finally(() => {
      clearTimeout(timer);
      next.cancel();
    });
  }

  /**
   * Closes every connection and timer of the session. `beforeQuit` runs once the feed stopped
   * and before the command connection closes (e.g. a leader lock's release). Idempotent.
   */
  async close(beforeQuit?: Promise<unknown>): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connections = this.#current;
    if (connections === undefined) {
      // Never connected: drop the sockets and return. A client may never settle the commands it
      // queued while offline, so the connect attempt is abandoned, not awaited; it holds no
      // socket or timer once its connections are dropped.
      this.#pending.connection?.destroy();
      void this.#pending.feed?.stop();
      return;
    }
    connections.liveness.stop();
    connections.reaper.stop();
    connections.waiter.close();
    await lastLook(connections.store, connections.feed);
    await connections.feed.stop();
    await beforeQuit;
    await connections.connection.close();
  }

  /** Drops every connection now, without waiting for the store. Idempotent. */
  destroy(): void {
    this.#closed = true;
    const connections = this.#current ?? this.#pending;
    connections.connection?.destroy();
    void connections.feed?.stop();
    if (this.#current !== undefined) {
      this.#current.liveness.stop();
      void this.#current.reaper.stop();
      void this.#current.waiter.close();
    }
  }

  async #connect(): Promise<Connections> {
    const { backend, options, logger } = this.#deps;
    const connection = await connectStore(backend, options, logger, {
      failed: (error) => this.reachability.failed(error),
      ready: () => this.reachability.reached(),
    });
    const store = connection.store;
    const feed: ResultFeed = new ResultFeed(
      store.createFeedReader(),
      logger,
      this.#deps.onEvent,
      () => feed.hasWaiters || this.#deps.needsEvents(),
    );
    this.#pending = { connection, feed };
    // The store may be down at start: keep trying until it answers or the manager stops;
    // callers wait at most their call timeout each. Ready only once the command connection is
    // too: `submit` refuses a connection that is not connected (fail fast on connection loss),
    // so a submit right after construction must not find it still in its handshake.
    try {
      await untilAnswered(
        async () => {
          await connection.ping();
          await feed.start();
        },
        () => this.#closed,
        logger,
        (error) => this.reachability.failed(error),
      );
      this.reachability.reached();
    } catch (error) {
      // Refused for good (e.g. a database the store does not have): leave nothing open.
      connection.destroy();
      await feed.stop();
      throw error;
    }
    if (this.#closed) {
      // Stopped while the last handshake was answering: do not keep what it opened.
      connection.destroy();
      await feed.stop();
      throw new BackendUnavailableError("the manager stopped before the store answered");
    }
    const reaper = new Reaper(store, {
      onPass: (pass) => this.#deps.onPoisoned(pass.poisoned),
      onError: (error) =>
        safeLog(logger, "warn", { err: error }, "taskmill lease reclaim failed; retrying"),
    });
    const liveness = new Liveness(connection, options.clock, backend.callTimeoutMs);
    this.#current = { connection, liveness, store, feed, waiter: store.createWaiter(), reaper };
    this.#deps.onConnected(this.#current);
    return this.#current;
  }
}

/** Longest the last look at waiting `result()` tasks may delay a stop. */
const LAST_LOOK_MS = 500;

/**
 * Before the feed closes: a `result()` asked just before a stop may wait for a task that ended
 * while the reader was still starting (its event committed, not read yet). One bounded look at
 * those tasks' records settles the ones that ended; the others wait as before.
 */
async function lastLook(store: DurableStore, feed: ResultFeed): Promise<void> {
  const ids = feed.waitingIds.slice(0, 100);
  if (ids.length === 0) return;
  const looks = Promise.all(
    ids.map((id) =>
      store.get(id).then(
        (task) => {
          if (task !== undefined && isTerminal(task.status)) feed.settle(storedEvent(task));
        },
        () => {},
      ),
    ),
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, LAST_LOOK_MS);
  });
  await Promise.race([looks, bound]).finally(() => clearTimeout(timer));
}

/** Runs a store call, turning an unreachable store into `BackendUnavailableError`. */
export async function unavailableOnConnectionError<T>(
  connection: StoreConnection,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (connection.isConnectionError(error))
      throw new BackendUnavailableError((error as Error).message, { cause: error });
    throw error;
  }
}
