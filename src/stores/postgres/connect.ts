/**
 * The Postgres side of connecting: the pool (ours from `url`, or the user's), the store on it,
 * the schema migrated on the first successful round trip, the connection state the engine
 * reports, and which failures mean "the database cannot be reached". `pg` is loaded here, on
 * first use, so users of other stores never need it installed.
 */
import type { Pool, PoolClient } from "pg";
import { type Logger, safeLog } from "../../observability/logger.js";
import type { ResolvedOptions } from "../../options.js";
import type { ConnectionListener, StoreConnection } from "../durable-store.js";
import { importPeer } from "../peer.js";
import { withoutCredentials } from "../target.js";
import type { ResolvedPostgresBackend } from "./backend-options.js";
import type { DedicatedClient, OpenDedicated } from "./listener.js";
import { migrate, requireCurrent } from "./migrations.js";
import { postgresStoreSettings } from "./options.js";
import type { Query } from "./queries.js";
import { PostgresStore } from "./store.js";

/** SQLSTATE classes and codes that mean the server is gone, restarting or refusing us now. */
const CONNECTION_CODES = /^(08...|57P0[1-3]|53300)$/;
const CONNECTION_MESSAGES =
  /ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|Connection terminated|connection timeout|timeout exceeded when trying to connect|Client has encountered a connection error|not queryable|Client was closed|the database system is (starting up|shutting down|in recovery)|terminating connection/i;

/** Whether `error` means the database could not be reached (the call may be retried). */
export function isPostgresConnectionError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === "string" && CONNECTION_CODES.test(code)) return true;
  const message = error instanceof Error ? error.message : "";
  return CONNECTION_MESSAGES.test(message);
}

/** Creates the pool and the store; nothing is sent until the engine's first ping. */
export async function connectPostgres(
  backend: ResolvedPostgresBackend,
  options: ResolvedOptions,
  logger: Logger,
  listener?: ConnectionListener,
): Promise<StoreConnection> {
  const { default: pg } = await importPeer<typeof import("pg")>("pg", "postgres");
  const settings = postgresStoreSettings(backend, options);
  const connectTimeout = backend.callTimeoutMs;
  const owned = backend.pool === undefined;
  const pool: Pool = owned
    ? new pg.Pool({
        connectionString: backend.url,
        max: backend.poolSize,
        connectionTimeoutMillis: connectTimeout,
        keepAlive: true,
      })
    : (backend.pool as unknown as Pool);
  if (owned)
    pool.on("error", (error) =>
      safeLog(logger, "warn", { err: error }, "taskmill Postgres idle connection error"),
    );
  const connection = new PostgresConnection(pool, owned, backend, logger, listener);
  const openDedicated: OpenDedicated = async () => {
    if (owned) {
      const client = new pg.Client({
        connectionString: backend.url,
        connectionTimeoutMillis: connectTimeout,
        keepAlive: true,
      });
      client.on("error", () => {}); // surfaced by the listener, which reconnects
      try {
        await client.connect();
      } catch (error) {
        void client.end().catch(() => {});
        throw error;
      }
      return {
        client: client as DedicatedClient,
        close: once(() => void client.end().catch(() => {})),
      };
    }
    const client: PoolClient = await pool.connect();
    client.on("error", () => {});
    // Destroyed, not returned: a LISTENing connection must not go back into the user's pool.
    return { client: client as DedicatedClient, close: once(() => client.release(true)) };
  };
  connection.store = new PostgresStore(connection.query, openDedicated, settings);
  return connection;
}

/** `fn`, run at most once (a dedicated connection is closed by its owner and by its own end). */
function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

class PostgresConnection implements StoreConnection {
  store!: PostgresStore;
  readonly #pool: Pool;
  readonly #owned: boolean;
  readonly #backend: ResolvedPostgresBackend;
  readonly #logger: Logger;
  readonly #listener: ConnectionListener | undefined;
  #state: StoreConnection["status"] = "connecting";
  #migrated: Promise<void> | undefined;
  /** Where the database is, without credentials. */
  readonly target: string;

  constructor(
    pool: Pool,
    owned: boolean,
    backend: ResolvedPostgresBackend,
    logger: Logger,
    listener: ConnectionListener | undefined,
  ) {
    this.#pool = pool;
    this.#owned = owned;
    this.#backend = backend;
    this.#logger = logger;
    this.#listener = listener;
    this.target = backend.url === undefined ? "the given pool" : withoutCredentials(backend.url);
  }

  /** Every statement of the store goes through here: it keeps `status` up to date. */
  readonly query: Query = async (text, values, name) => {
    try {
      const result = (await (name === undefined
        ? this.#pool.query(text, values)
        : this.#pool.query({ name, text, values: values ?? [] }))) as unknown as {
        rows: Array<Record<string, unknown>>;
      };
      if (this.#state !== "closed" && this.#migrated !== undefined) {
        if (this.#state !== "connected") this.#listener?.ready();
        this.#state = "connected";
      }
      return result;
    } catch (error) {
      if (isPostgresConnectionError(error)) {
        if (this.#state === "connected") this.#state = "reconnecting";
        if (this.#state !== "closed") this.#listener?.failed(error);
      }
      throw error;
    }
  };

  get status(): StoreConnection["status"] {
    return this.#state;
  }

  /** One round trip; the first successful one also migrates the schema (or checks it). */
  async ping(): Promise<void> {
    if (this.#migrated === undefined) {
      const running = this.#migrate();
      this.#migrated = running;
      running.catch(() => {
        if (this.#migrated === running) this.#migrated = undefined;
      });
    }
    await this.#migrated;
    await this.query("SELECT 1");
  }

  isConnectionError(error: unknown): boolean {
    return isPostgresConnectionError(error);
  }

  async close(): Promise<void> {
    this.#state = "closed";
    if (this.#owned) await this.#pool.end().catch(() => {});
  }

  destroy(): void {
    this.#state = "closed";
    if (this.#owned) void this.#pool.end().catch(() => {});
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      const names = this.store.names;
      if (this.#backend.migrate) {
        const result = await migrate(client as never, names);
        if (result.applied.length > 0)
          safeLog(
            this.#logger,
            "info",
            { schema: names.schema, applied: result.applied },
            "taskmill migrated its Postgres schema",
          );
      } else await requireCurrent(client as never, names);
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  }
}
