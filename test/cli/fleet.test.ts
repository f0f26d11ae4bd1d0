/**
 * The fleet commands over a real admin server: `workers` and `schedule create | pause |
 * resume | delete` (memory mode: the one process is the registry's one worker).
 */
import { TaskManager } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, type RunResult, runCli, startServer, WRITE_TOKEN } from "./harness.js";

let mill: TaskManager;
let server: { url: string; close(): Promise<void> };
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager({ concurrency: 3 });
  mill.register("echo", async (payload: unknown) => payload, { queue: "ops" });
  server = await startServer(mill);
  env = { TASKMILL_URL: server.url, TASKMILL_TOKEN: WRITE_TOKEN };
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

const cli = (args: readonly string[]) => runCli(args, env);

function json<T>(result: RunResult): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

describe("taskmill workers", () => {
  it("lists this process as the one worker (human and JSON)", async () => {
    const human = await cli(["workers"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/HOST +PID +STATE/);
    expect(human.stdout).toContain(String(process.pid));
    expect(human.stdout).toContain("alive");
    const { workers } = json<{ workers: Array<Record<string, unknown>> }>(
      await cli(["workers", "--json"]),
    );
    expect(workers).toEqual([
      expect.objectContaining({
        pid: process.pid,
        concurrency: 3,
        queues: ["ops"],
        state: "alive",
      }),
    ]);
  });
});

describe("taskmill schedule", () => {
  it("creates, pauses, resumes and deletes a schedule", async () => {
    const created = await cli(["schedule", "create", "nightly", "0 3 * * *", "echo", '{"n":1}']);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/^Scheduled nightly\./);
    expect(mill.schedules()).toEqual([
      expect.objectContaining({
        id: "nightly",
        cron: "0 3 * * *",
        taskName: "echo",
        paused: false,
      }),
    ]);
    const paused = json<{ schedule: { paused: boolean } }>(
      await cli(["schedule", "pause", "nightly", "--json"]),
    );
    expect(paused.schedule.paused).toBe(true);
    expect((await cli(["schedules"])).stdout).toMatch(/nightly.*paused/);
    const resumed = json<{ schedule: { paused: boolean } }>(
      await cli(["schedule", "resume", "nightly", "--json"]),
    );
    expect(resumed.schedule.paused).toBe(false);
    expect((await cli(["schedule", "delete", "nightly"])).stdout).toBe(
      "Deleted schedule nightly.\n",
    );
    expect(mill.schedules()).toEqual([]);
    const missing = await cli(["schedule", "pause", "nightly"]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/No schedule with id "nightly"/);
  });

  it("refuses a bad pattern and a payload that is not JSON", async () => {
    const bad = await cli(["schedule", "create", "x", "not a cron", "echo"]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/cron/);
    const notJson = await cli(["schedule", "create", "x", "0 3 * * *", "echo", "{nope"]);
    expect(notJson.code).not.toBe(0);
    expect(notJson.stderr).toMatch(/not valid JSON/);
    expect(mill.schedules()).toEqual([]);
  });
});
