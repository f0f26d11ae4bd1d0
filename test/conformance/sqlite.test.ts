/** The conformance suite against the SQLite store (durable mode): one fresh file per manager. */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runConformanceSuite } from "./suite.js";

let dir: string | undefined;

runConformanceSuite({
  name: "sqlite",
  durable: true,
  setup: async () => {
    dir = mkdtempSync(join(tmpdir(), "taskmill-conf-"));
  },
  teardown: async () => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  },
  // A fresh file per manager (per call): tests never see each other's tasks.
  backend: () => {
    if (dir === undefined) throw new Error("the temporary directory is not made");
    return { type: "sqlite", path: join(dir, `${randomUUID().slice(0, 8)}.db`), leaseMs: 2_000 };
  },
});
