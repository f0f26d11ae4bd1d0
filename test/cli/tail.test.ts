import { TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, spawnCli, startServer, WRITE_TOKEN, waitFor } from "./harness.js";

let mill: TaskManager;
let server: { url: string; close(): Promise<void> };

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager();
  mill.register("echo", async (payload: unknown) => payload);
  mill.register(
    "boom",
    async () => {
      throw new Error("nope");
    },
    { retry: { maxRetries: 0 } },
  );
  server = await startServer(mill);
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

/** Starts `tail` and waits until its stream is subscribed, so no result is missed. */
async function startTail(args: readonly string[]) {
  const before = mill.stats().subscribers;
  const run = spawnCli(["tail", ...args], {
    TASKMILL_URL: server.url,
    TASKMILL_TOKEN: WRITE_TOKEN,
  });
  await waitFor(() => mill.stats().subscribers > before, 10_000);
  return run;
}

describe("tail", () => {
  it("--count 2 prints the two results of two submitted tasks, then exits 0", async () => {
    const { done } = await startTail(["--count", "2"]);
    const a = await mill.submit("echo", { a: 1 });
    const b = await mill.submit("echo", { b: 2 });
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      new RegExp(`^\\S+ \\S+  succeeded  echo  ${a.id}  attempts=1  \\{"a":1\\}$`),
    );
    expect(lines[1]).toContain(b.id);
  });

  it("filters by name and status client-side and prints NDJSON with --json", async () => {
    const { done } = await startTail([
      "--name",
      "boom",
      "--status",
      "failed",
      "--count",
      "1",
      "--json",
    ]);
    await (await mill.submit("echo", 1)).result();
    const failed = await mill.submit("boom", null);
    const result = await done;
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split("\n");
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      id: failed.id,
      name: "boom",
      status: "failed",
      error: { message: "nope" },
    });
  });

  it("reconnects when the server restarts and keeps printing", async () => {
    const { createAdminServer } = await import("taskmill");
    const auth = { tokens: [{ token: WRITE_TOKEN, role: "write" as const }] };
    let admin = await createAdminServer(mill, { auth });
    const port = admin.port;
    try {
      const before = mill.stats().subscribers;
      const { child, done } = spawnCli(["tail", "--count", "2"], {
        TASKMILL_URL: admin.url,
        TASKMILL_TOKEN: WRITE_TOKEN,
      });
      await waitFor(() => mill.stats().subscribers > before, 10_000);
      let stdout = "";
      child.stdout?.on("data", (chunk) => {
        stdout += String(chunk);
      });
      const first = await mill.submit("echo", "before");
      // Memory mode cannot replay: let the first result reach the CLI before the restart.
      await waitFor(() => stdout.includes(first.id));
      // close() ends the open SSE streams: the CLI sees a dropped stream.
      await admin.close();
      await waitFor(() => mill.stats().subscribers === before);
      admin = await createAdminServer(mill, { auth, port });
      await waitFor(() => mill.stats().subscribers > before, 10_000);
      const second = await mill.submit("echo", "after");
      const result = await done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(first.id);
      expect(result.stdout).toContain(second.id);
      expect(result.stderr).toMatch(
        /^connection lost \(.+\); reconnecting in \d+ ms from event \d+\n$/,
      );
    } finally {
      await admin.close();
    }
  });

  it("ends cleanly on SIGINT", async () => {
    const { child, done } = await startTail([]);
    child.kill("SIGINT");
    const result = await done;
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    await waitFor(() => mill.stats().subscribers === 0);
  });
});
