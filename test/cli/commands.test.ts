import { writeFile } from "node:fs/promises";
import { createServer as createTcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TaskManager, type TaskSnapshot } from "taskmill";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  closedPortUrl,
  READ_TOKEN,
  type RunResult,
  runCli,
  startServer,
  WRITE_TOKEN,
  waitFor,
} from "./harness.js";

let mill: TaskManager;
let server: { url: string; close(): Promise<void> };
let env: Record<string, string>;

beforeAll(async () => {
  assertBuilt();
  mill = new TaskManager();
  mill.register("echo", async (payload: unknown) => payload);
  mill.register("ops.job", async (payload: unknown) => payload, { queue: "ops" });
  server = await startServer(mill);
  env = { TASKMILL_URL: server.url, TASKMILL_TOKEN: WRITE_TOKEN };
});

afterAll(async () => {
  await server?.close();
  await mill?.stopNow();
});

/** Runs the CLI with the test server's URL and the write token. */
const cli = (args: readonly string[], extra: Record<string, string> = {}) =>
  runCli(args, { ...env, ...extra });

function json<T>(result: RunResult): T {
  expect(result.stderr).toBe("");
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}

/** The ids of stored task snapshots, after the task finished. */
async function finished(id: string): Promise<TaskSnapshot> {
  await waitFor(async () => (await mill.get(id))?.finishedAt !== undefined);
  return (await mill.get(id)) as TaskSnapshot;
}

describe("submit", () => {
  it("submits with a JSON argument and prints the task (human)", async () => {
    const result = await cli(["submit", "echo", '{"n":1}']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(
      /^Submitted\.\nid: +\S+\nname: +echo\nqueue: +default\nstatus: +/,
    );
    const id = /^id: +(\S+)$/m.exec(result.stdout)?.[1] as string;
    expect((await finished(id)).value).toEqual({ n: 1 });
  });

  it("passes queue, priority, delay and idempotency key (--json)", async () => {
    const args = ["submit", "ops.job", "[1,2]", "--queue", "ops", "--priority", "-3"];
    const more = ["--delay-ms", "60000", "--idempotency-key", "key-1", "--json"];
    const { task } = json<{ task: TaskSnapshot }>(await cli([...args, ...more]));
    expect(task).toMatchObject({
      name: "ops.job",
      queue: "ops",
      priority: -3,
      idempotencyKey: "key-1",
      status: "scheduled",
    });
    expect(task.runAt).toBeGreaterThan(Date.now() + 50_000);
    // Same key: the server hands back the same task.
    const again = json<{ task: TaskSnapshot }>(await cli([...args, ...more]));
    expect(again.task.id).toBe(task.id);
    await mill.cancel(task.id);
  });

  it("reads the payload from a file", async () => {
    const file = join(tmpdir(), `taskmill-cli-${process.pid}.json`);
    await writeFile(file, '{"from":"file"}');
    const { task } = json<{ task: TaskSnapshot }>(
      await cli(["submit", "echo", "--payload-file", file, "--json"]),
    );
    expect((await finished(task.id)).value).toEqual({ from: "file" });
  });

  it("rejects invalid JSON with exit 2 before contacting the server", async () => {
    let connections = 0;
    const tcp = createTcpServer((socket) => {
      connections++;
      socket.destroy();
    });
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const { port } = tcp.address() as { port: number };
    try {
      const result = await cli(["submit", "echo", "{not json"], {
        TASKMILL_URL: `http://127.0.0.1:${port}`,
      });
      expect(result.code).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toContain("error: payload is not valid JSON");
      expect(result.stderr).not.toMatch(/\n\s+at /);
      const flag = await cli(["submit", "echo", "--priority", "high"], {
        TASKMILL_URL: `http://127.0.0.1:${port}`,
      });
      expect(flag.code).toBe(2);
      expect(flag.stderr).toContain("--priority");
      expect(connections).toBe(0);
    } finally {
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it("exits 1 with the server's code, field and request id when it refuses", async () => {
    const result = await cli(["submit", "no.such.handler", "{}"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(
      /^error: .+ \(code BAD_REQUEST, HTTP 400, (field \S+, )?request id \S+\)\n$/,
    );
  });
});

describe("get, list and cancel", () => {
  it("gets a task (human and --json)", async () => {
    const handle = await mill.submit("echo", { get: true });
    await handle.result();
    const human = await cli(["get", handle.id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`id:`);
    expect(human.stdout).toMatch(/status: +succeeded/);
    expect(human.stdout).toMatch(/value: +\{"get":true\}/);
    const { task } = json<{ task: TaskSnapshot }>(await cli(["get", handle.id, "--json"]));
    expect(task).toMatchObject({ id: handle.id, status: "succeeded", value: { get: true } });
  });

  it("lists with filters, pages with --cursor and follows every page with --all", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const handle = await mill.submit("echo", i);
      ids.push(handle.id);
      await handle.result();
    }
    const human = await cli(["list", "--name", "echo", "--status", "succeeded", "--limit", "2"]);
    expect(human.code).toBe(0);
    const lines = human.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID +NAME +QUEUE +STATUS +PRIO +ATTEMPTS +CREATED +DETAIL$/);
    expect(lines).toHaveLength(3);
    expect(human.stderr).toMatch(/^More tasks: add --cursor \S+ \(or --all\)\.\n$/);

    const page = json<{ tasks: TaskSnapshot[]; nextCursor: string | null }>(
      await cli(["list", "--name", "echo", "--limit", "2", "--json"]),
    );
    expect(page.tasks).toHaveLength(2);
    expect(page.nextCursor).not.toBeNull();
    const next = json<{ tasks: TaskSnapshot[] }>(
      await cli([
        "list",
        "--name",
        "echo",
        "--limit",
        "2",
        "--cursor",
        page.nextCursor as string,
        "--json",
      ]),
    );
    expect(next.tasks.map((t) => t.id)).not.toContain(page.tasks[0]?.id);

    const all = json<{ tasks: TaskSnapshot[]; nextCursor: string | null }>(
      await cli(["list", "--name", "echo", "--limit", "1", "--all", "--json"]),
    );
    expect(all.nextCursor).toBeNull();
    expect(all.tasks.map((t) => t.id)).toEqual(expect.arrayContaining(ids));
    expect(new Set(all.tasks.map((t) => t.id)).size).toBe(all.tasks.length);
  });

  it("lists newest first by default and oldest first with --oldest (cursors in both)", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const handle = await mill.submit("echo", { order: i });
      ids.push(handle.id);
      await handle.result();
    }
    type Page = { tasks: TaskSnapshot[]; nextCursor: string | null };
    const listed = async (...extra: string[]) =>
      json<Page>(await cli(["list", "--name", "echo", "--limit", "100", "--json", ...extra]));
    const newest = (await listed()).tasks.map((t) => t.id).filter((id) => ids.includes(id));
    const oldest = (await listed("--oldest")).tasks
      .map((t) => t.id)
      .filter((id) => ids.includes(id));
    expect(newest).toEqual([...ids].reverse());
    expect(oldest).toEqual(ids);
    const human = await cli(["list", "--name", "echo", "--limit", "1", "--oldest"]);
    expect(human.stderr).toMatch(/^More tasks: add --cursor \S+ --oldest \(or --all\)\.\n$/);
  });

  it("rejects an unknown status before sending anything", async () => {
    const result = await cli(["list", "--status", "done"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('unknown value "done"');
  });

  it("cancels a waiting task (human and --json)", async () => {
    const first = await mill.submit("echo", 1, { delayMs: 60_000 });
    const human = await cli(["cancel", first.id]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^Cancelled \S+\.\n/);
    expect((await mill.get(first.id))?.status).toBe("cancelled");

    const second = await mill.submit("echo", 2, { delayMs: 60_000 });
    const answer = json<{ cancelled: boolean }>(await cli(["cancel", second.id, "--json"]));
    expect(answer.cancelled).toBe(true);
  });

  it("exits 1 with NOT_FOUND when cancelling an unknown id", async () => {
    const result = await cli(["cancel", "no-such-task"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/code NOT_FOUND, HTTP 404.*request id \S+\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });
});

describe("queues, pause, resume and stats", () => {
  it("lists queues (human and --json)", async () => {
    const human = await cli(["queues"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^QUEUE +DEPTH +WAITING +RUNNING +CONCURRENCY +STATE\n/);
    expect(human.stdout).toMatch(/^default +\d+ +\d+ +\d+ +\S+ +active$/m);
    const { queues } = json<{ queues: { name: string }[] }>(await cli(["queues", "--json"]));
    expect(queues.map((q) => q.name)).toContain("default");
  });

  it("pauses and resumes a queue", async () => {
    const paused = await cli(["pause", "ops"]);
    expect(paused.code).toBe(0);
    expect(paused.stdout).toMatch(/^Paused queue ops\.\n/);
    expect(paused.stdout).toMatch(/^ops +.* paused$/m);
    expect((await mill.queues()).find((q) => q.name === "ops")?.paused).toBe(true);
    const resumed = json<{ queue: { name: string; paused: boolean } }>(
      await cli(["resume", "ops", "--json"]),
    );
    expect(resumed.queue).toMatchObject({ name: "ops", paused: false });
    expect((await mill.queues()).find((q) => q.name === "ops")?.paused).toBe(false);
  });

  it("shows stats (human and --json)", async () => {
    const human = await cli(["stats"]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^backend: +memory$/m);
    expect(human.stdout).toMatch(/^submitted: +\d+$/m);
    const answer = json<{ stats: { submitted: number }; health: { backend: string } }>(
      await cli(["stats", "--json"]),
    );
    expect(answer.stats.submitted).toBe(mill.stats().submitted);
    expect(answer.health.backend).toBe("memory");
  });
});

describe("schedules", () => {
  it("lists cron schedules with their next run (human and --json)", async () => {
    expect((await cli(["schedules"])).stdout.trim()).toBe("No schedules.");
    const info = mill.schedule("nightly", "0 3 * * *", "echo", { nightly: true });
    try {
      const human = await cli(["schedules"]);
      expect(human.code).toBe(0);
      expect(human.stdout).toMatch(/^SCHEDULE +CRON +TASK/m);
      expect(human.stdout).toMatch(/^nightly +0 3 \* \* \* +echo /m);
      const { schedules } = json<{ schedules: { id: string; nextRunAt: number }[] }>(
        await cli(["schedules", "--json"]),
      );
      expect(schedules).toEqual([expect.objectContaining({ id: "nightly", taskName: "echo" })]);
      expect(schedules[0]?.nextRunAt).toBe(info.nextRunAt);
    } finally {
      mill.unschedule("nightly");
    }
  });
});

describe("auth and transport failures", () => {
  it("exits 1 with UNAUTHORIZED for a wrong token", async () => {
    const result = await cli(["queues"], { TASKMILL_TOKEN: "wrong" });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/code UNAUTHORIZED, HTTP 401/);
  });

  it("exits 1 with FORBIDDEN when a read token tries to write", async () => {
    expect((await cli(["queues"], { TASKMILL_TOKEN: READ_TOKEN })).code).toBe(0);
    const result = await cli(["pause", "ops"], { TASKMILL_TOKEN: READ_TOKEN });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/code FORBIDDEN, HTTP 403/);
  });

  it("warns that --token shows in the process list", async () => {
    const result = await runCli(["queues", "--json", "--url", server.url, "--token", WRITE_TOKEN]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("warning: --token is visible");
  });

  it("exits 3 when the server cannot be reached", async () => {
    const result = await cli(["queues"], { TASKMILL_URL: await closedPortUrl() });
    expect(result.code).toBe(3);
    expect(result.stderr).toMatch(/^error: cannot reach http:\/\/127\.0\.0\.1:\d+: .*ECONNREFUSED/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it("exits 3 when the server does not answer within --timeout-ms", async () => {
    // Accepts connections and never answers, like a hung process behind a live socket.
    const sockets = new Set<Socket>();
    const tcp = createTcpServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => tcp.listen(0, "127.0.0.1", resolve));
    const { port } = tcp.address() as { port: number };
    try {
      const started = Date.now();
      const result = await cli(["stats", "--timeout-ms", "300"], {
        TASKMILL_URL: `http://127.0.0.1:${port}`,
      });
      expect(result.code).toBe(3);
      expect(result.stderr).toMatch(
        /^error: no answer from http:\/\/127\.0\.0\.1:\d+ within 300 ms/,
      );
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    }
  });

  it("exits 2 for a malformed --url", async () => {
    const result = await cli(["queues"], { TASKMILL_URL: "ftp://example" });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--url must use http or https");
  });
});
