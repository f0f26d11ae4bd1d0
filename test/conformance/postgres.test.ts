/** The conformance suite against a real PostgreSQL server, started for this file. */
import { randomUUID } from "node:crypto";
import { type PostgresServer, startPostgresServer } from "../support/postgres-server.js";
import { runConformanceSuite } from "./suite.js";

let server: PostgresServer | undefined;

runConformanceSuite({
  name: "postgres",
  durable: true,
  setup: async () => {
    server = await startPostgresServer();
  },
  teardown: async () => {
    await server?.dispose();
  },
  // A fresh schema per manager (per call): tests never see each other's tasks.
  backend: () => {
    if (server === undefined) throw new Error("the postgres server is not started");
    return {
      type: "postgres",
      url: server.url,
      schema: `conf_${randomUUID().slice(0, 8)}`,
      leaseMs: 2_000,
    };
  },
});
