/**
 * One real PostgreSQL server per test file, a fresh schema per store or manager, every pool
 * and manager closed after each test. Call `usePostgres()` at the top level of a test file.
 */
import { randomUUID } from "node:crypto";
import pg from "pg";
import {
  TaskManager as Manager,
  type PostgresBackendOptions,
  type TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterAll, afterEach, beforeAll } from "vitest";
import { silentLogger } from "../../../src/observability/logger.js";
import { resolveOptions } from "../../../src/options.js";
import type { StoreConnection } from "../../../src/stores/durable-store.js";
import { connectPostgres } from "../../../src/stores/postgres/connect.js";
import type { PostgresStore } from "../../../src/stores/postgres/store.js";
import {
  type PostgresServer,
  type PostgresServerOptions,
  startPostgresServer,
} from "../../support/postgres-server.js";

export interface PostgresFixture {
  server(): PostgresServer;
  /** A pool on the server (ended after the file). */
  pool(): pg.Pool;
  /** A fresh schema name. */
  schema(): string;
  /** A migrated store on a fresh schema (or `schema`), its connection closed after the test. */
  store(options?: {
    schema?: string;
    leaseMs?: number;
    maxDeliveries?: number;
    globalRate?: PostgresBackendOptions["globalRate"];
    retention?: TaskManagerOptions["retention"];
  }): Promise<PostgresStore>;
  /** A manager (stopped after the test) on a fresh schema unless `backend` is given. */
  manager(options?: TaskManagerOptions): TaskManager;
  /** The postgres backend option for `schema`. */
  backend(schema: string, leaseMs?: number): PostgresBackendOptions;
}

export function usePostgres(options: PostgresServerOptions = {}): PostgresFixture {
  let server: PostgresServer | undefined;
  let shared: pg.Pool | undefined;
  const connections: StoreConnection[] = [];
  const managers: TaskManager[] = [];
  beforeAll(async () => {
    server = await startPostgresServer(options);
  });
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((mill) => mill.stopNow()));
    await Promise.all(connections.splice(0).map((connection) => connection.close()));
  });
  afterAll(async () => {
    await shared?.end().catch(() => {});
    await server?.dispose();
  });
  const fixture: PostgresFixture = {
    server() {
      if (server === undefined) throw new Error("the postgres server is not started yet");
      return server;
    },
    pool() {
      if (shared === undefined) {
        shared = new pg.Pool({ connectionString: fixture.server().url, max: 10 });
        shared.on("error", () => {});
      }
      return shared;
    },
    schema() {
      return `t_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
    },
    async store(storeOptions = {}) {
      const backend = {
        ...fixture.backend(storeOptions.schema ?? fixture.schema(), storeOptions.leaseMs),
        ...(storeOptions.maxDeliveries === undefined
          ? {}
          : { maxDeliveries: storeOptions.maxDeliveries }),
        ...(storeOptions.globalRate === undefined ? {} : { globalRate: storeOptions.globalRate }),
      };
      const resolved = resolveOptions({
        backend,
        ...(storeOptions.retention === undefined ? {} : { retention: storeOptions.retention }),
      });
      if (resolved.backend.type !== "postgres") throw new Error("not postgres");
      const connection = await connectPostgres(resolved.backend, resolved, silentLogger);
      connections.push(connection);
      await connection.ping();
      return connection.store as PostgresStore;
    },
    manager(managerOptions = {}) {
      const mill = new Manager({
        concurrency: 2,
        retry: { maxRetries: 0 },
        ...managerOptions,
        backend: managerOptions.backend ?? fixture.backend(fixture.schema()),
      });
      managers.push(mill);
      return mill;
    },
    backend(schema, leaseMs = 2_000) {
      return { type: "postgres", url: fixture.server().url, schema, leaseMs };
    },
  };
  return fixture;
}
