/**
 * `import "taskmill"` does not load the admin API's schemas (zod, ~6 MB): a service that never
 * serves the admin API never pays for them. Creating an admin handler loads them. Proven in a
 * child process on the built package, with a module hook that reports every package resolved.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";

const run = promisify(execFile);
const register = fileURLToPath(new URL("../support/module-probe/register.mjs", import.meta.url));
const dist = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

async function packagesResolvedBy(script: string): Promise<Set<string>> {
  const { stderr } = await run(
    process.execPath,
    ["--import", register, "--input-type=module", "-e", script],
    {
      timeout: 20_000,
    },
  );
  return new Set(
    stderr
      .split("\n")
      .filter((line) => line.startsWith("resolved:"))
      .map((line) => line.slice("resolved:".length)),
  );
}

describe('what `import "taskmill"` loads', () => {
  it("not zod, even while running tasks in memory mode", async () => {
    const loaded = await packagesResolvedBy(`
      const { TaskManager } = await import(${JSON.stringify(dist)});
      const mill = new TaskManager();
      mill.register("job", async (n) => n * 2);
      const task = await mill.submit("job", 21);
      if ((await task.result()) !== 42) throw new Error("wrong result");
      await mill.stopGraceful();
    `);
    expect(loaded.has("croner") || loaded.has("eventemitter3")).toBe(true);
    expect(loaded.has("zod")).toBe(false);
  });

  it("zod once an admin handler is created, and the handler answers", async () => {
    const loaded = await packagesResolvedBy(`
      const http = await import("node:http");
      const { TaskManager, createAdminHandler } = await import(${JSON.stringify(dist)});
      const mill = new TaskManager();
      const admin = createAdminHandler(mill, { insecureNoAuth: "loopback-only" });
      const server = http.createServer(admin);
      await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
      const response = await fetch("http://127.0.0.1:" + server.address().port + "/v1/queues");
      if (response.status !== 200) throw new Error("status " + response.status);
      server.close();
      admin.close();
      await mill.stopNow();
    `);
    expect(loaded.has("zod")).toBe(true);
  });
});
