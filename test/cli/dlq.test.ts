import { TaskManager, type TaskSnapshot } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  type RunResult,
  runCli,
  startServer,
  WRITE_TOKEN,
  waitFor,
} from "./harness.js";

let mill: TaskManager;
let server: { url: string; close(): Promise<void> };
/** While true, "flaky" fails; a replay after setting it false succeeds. */
let failing = true;

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager();
  mill.register(
    "flaky",
    async (payload: unknown) => {
      if (failing) throw new Error("boom");
      return payload;
    },
    { retry: { maxRetries: 0 } },
  );
  server = await startServer(mill);
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

const cli = (args: readonly string[]) =>
  runCli(args, { TASKMILL_URL: server.url, TASKMILL_TOKEN: WRITE_TOKEN });

function json<T>(result: RunResult): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

async function deadLetterIds(): Promise<string[]> {
  return (await mill.dlq.list({ limit: 1000 })).tasks.map((task) => task.id);
}

/** Submits `n` tasks that fail for good, and waits until they are dead letters. */
async function failTasks(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const handle = await mill.submit("flaky", { i });
    ids.push(handle.id);
    await handle.result().catch(() => undefined);
  }
  await waitFor(async () => {
    const dead = await deadLetterIds();
    return ids.every((id) => dead.includes(id));
  });
  return ids;
}

describe("dlq", () => {
  it("lists dead letters (human and --json)", async () => {
    const ids = await failTasks(2);
    const human = await cli(["dlq", "list", "--name", "flaky"]);
    expect(human.code).toBe(0);
    for (const id of ids)
      expect(human.stdout).toMatch(
        new RegExp(`^${id} +flaky +default +failed .*Error: boom$`, "m"),
      );
    const page = json<{ tasks: TaskSnapshot[]; nextCursor: string | null }>(
      await cli(["dlq", "list", "--name", "flaky", "--limit", "1", "--json"]),
    );
    expect(page.tasks).toHaveLength(1);
    expect(page.nextCursor).not.toBeNull();
  });

  it("replay is a dry run unless --apply, and --apply replays", async () => {
    const before = await deadLetterIds();
    expect(before.length).toBeGreaterThanOrEqual(2);
    const dry = await cli(["dlq", "replay", "--name", "flaky"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`Would replay ${before.length} dead letters (dry run`);
    for (const id of before) expect(dry.stdout).toContain(`  ${id}\n`);
    expect(await deadLetterIds()).toEqual(before);
    const dryJson = json<{ ids: string[]; dryRun: boolean }>(
      await cli(["dlq", "replay", "--name", "flaky", "--json"]),
    );
    expect(dryJson).toMatchObject({ ids: before, dryRun: true });
    expect(await deadLetterIds()).toEqual(before);

    failing = false;
    const [first, ...rest] = before as [string, ...string[]];
    const applied = await cli(["dlq", "replay", "--ids", `${first},not-a-dead-letter`, "--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^Replayed 1 dead letter\.\n/);
    expect(applied.stdout).toContain("Not in the dead-letter queue (1):\n  not-a-dead-letter");
    await waitFor(async () => (await mill.get(first))?.status === "succeeded");
    expect(await deadLetterIds()).toEqual(rest);

    const appliedJson = json<{ ids: string[]; dryRun: boolean }>(
      await cli(["dlq", "replay", "--name", "flaky", "--apply", "--json"]),
    );
    expect(appliedJson).toMatchObject({ ids: rest, dryRun: false });
    for (const id of rest) await waitFor(async () => (await mill.get(id))?.status === "succeeded");
    failing = true;
  });

  it("purge is a dry run (by listing) unless --apply", async () => {
    const ids = await failTasks(2);
    const dry = await cli(["dlq", "purge", "--name", "flaky"]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("Would purge 2 dead letters (dry run");
    const dryIds = json<{ ids: string[]; dryRun: boolean }>(
      await cli(["dlq", "purge", "--ids", ids.join(","), "--json"]),
    );
    expect(dryIds).toEqual({ ids, skipped: [], dryRun: true });
    expect(await deadLetterIds()).toEqual(ids);

    const applied = await cli(["dlq", "purge", "--ids", ids[0] as string, "--apply"]);
    expect(applied.code).toBe(0);
    expect(applied.stdout).toMatch(/^Purged 1 dead letter\.\n/);
    expect(await deadLetterIds()).toEqual(ids.slice(1));
    json(await cli(["dlq", "purge", "--name", "flaky", "--apply", "--json"]));
    expect(await deadLetterIds()).toEqual([]);
  });

  it("needs exactly one of --ids and --name (exit 2)", async () => {
    const neither = await cli(["dlq", "replay"]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain("exactly one of --ids or --name");
    const both = await cli(["dlq", "purge", "--ids", "a", "--name", "flaky"]);
    expect(both.code).toBe(2);
  });
});
