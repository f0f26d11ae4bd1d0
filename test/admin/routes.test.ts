/**
 * Every route of the admin API against a real memory-mode TaskManager over real sockets: what
 * an operator, the CLI and the dashboard rely on each route to do.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Counter, Registry } from "prom-client";
import { TaskManager } from "taskmill";
import { describe, expect, it, vi } from "vitest";
import {
  DeadLetterOutcomeSchema,
  QueueInfoSchema,
  TaskPageSchema,
  TaskSnapshotSchema,
} from "../../src/admin/schemas.js";
import { onCleanup, READ_TOKEN, start } from "./support.js";

describe("tasks", () => {
  it("POST /v1/tasks submits and answers 201 with the task's snapshot", async () => {
    const { call, mill } = await start();
    const reply = await call("POST", "/v1/tasks", { body: { name: "echo", payload: { n: 1 } } });
    expect(reply.status).toBe(201);
    const task = TaskSnapshotSchema.parse(reply.json.task);
    expect(task.name).toBe("echo");
    expect(await (await mill.get(task.id))?.status).toBeDefined();
    await vi.waitFor(async () => expect((await mill.get(task.id))?.value).toEqual({ n: 1 }));
  });

  it("applies every submit option: priority, delay, runAt, queue, idempotency key", async () => {
    const { call } = await start();
    const delayed = await call("POST", "/v1/tasks", {
      body: {
        name: "echo",
        options: {
          priority: 5,
          delayMs: 60_000,
          queue: "slow",
          idempotencyKey: "k1",
          ttlMs: 120_000,
        },
      },
    });
    expect(delayed.status).toBe(201);
    expect(delayed.json.task).toMatchObject({
      status: "scheduled",
      priority: 5,
      queue: "slow",
      idempotencyKey: "k1",
    });
    const runAt = new Date(Date.now() + 3_600_000).toISOString();
    const later = await call("POST", "/v1/tasks", {
      body: { name: "echo", options: { runAt } },
    });
    expect(later.json.task.status).toBe("scheduled");
    expect(Math.abs(later.json.task.runAt - Date.parse(runAt))).toBeLessThan(5);
    // The same key and payload is the same task, not a second one.
    const again = await call("POST", "/v1/tasks", {
      body: {
        name: "echo",
        options: { priority: 5, delayMs: 60_000, queue: "slow", idempotencyKey: "k1" },
      },
    });
    expect(again.json.task.id).toBe(delayed.json.task.id);
  });

  it("GET /v1/tasks filters by status, name and queue and pages with a cursor", async () => {
    const { call, mill } = await start();
    mill.register("other", async () => "x");
    for (let i = 0; i < 3; i++) await mill.submit("echo", i, { delayMs: 60_000 });
    const done = await mill.submit("other", undefined, { queue: "q2" });
    await done.result();

    const first = await call("GET", "/v1/tasks?status=scheduled&limit=2", { token: READ_TOKEN });
    expect(first.status).toBe(200);
    const page = TaskPageSchema.parse(first.json);
    expect(page.tasks).toHaveLength(2);
    expect(page.nextCursor).toEqual(expect.any(String));
    const second = await call(
      "GET",
      `/v1/tasks?status=scheduled&limit=2&cursor=${encodeURIComponent(page.nextCursor as string)}`,
    );
    expect(second.json.tasks).toHaveLength(1);
    expect(second.json.nextCursor).toBeNull();

    const byName = await call("GET", "/v1/tasks?name=other");
    expect(byName.json.tasks.map((t: { id: string }) => t.id)).toEqual([done.id]);
    const byQueue = await call("GET", "/v1/tasks?queue=q2&status=succeeded,failed");
    expect(byQueue.json.tasks.map((t: { id: string }) => t.id)).toEqual([done.id]);
  });

  it("GET /v1/tasks/:id returns the task", async () => {
    const { call, mill } = await start();
    const task = await mill.submit("echo", "hi");
    await task.result();
    const reply = await call("GET", `/v1/tasks/${task.id}`, { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.json.task).toMatchObject({ id: task.id, status: "succeeded", value: "hi" });
  });

  it("POST /v1/tasks/:id/cancel cancels a waiting task, and reports false once it ended", async () => {
    const { call, mill } = await start();
    const waiting = await mill.submit("echo", 1, { delayMs: 60_000 });
    const cancel = await call("POST", `/v1/tasks/${waiting.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.json).toMatchObject({
      cancelled: true,
      task: { id: waiting.id, status: "cancelled" },
    });
    const again = await call("POST", `/v1/tasks/${waiting.id}/cancel`);
    expect(again.json).toMatchObject({ cancelled: false, task: { status: "cancelled" } });
  });
});

describe("queues", () => {
  it("lists queues, pauses one (its tasks wait) and resumes it (they run)", async () => {
    const { call, mill } = await start();
    const paused = await call("POST", "/v1/queues/default/pause");
    expect(paused.status).toBe(200);
    expect(QueueInfoSchema.parse(paused.json.queue)).toMatchObject({
      name: "default",
      paused: true,
    });
    const task = await mill.submit("echo", 7);
    const listed = await call("GET", "/v1/queues", { token: READ_TOKEN });
    expect(listed.json.queues).toContainEqual(
      expect.objectContaining({ name: "default", paused: true, depth: 1 }),
    );
    expect((await mill.get(task.id))?.status).toBe("queued");
    const resumed = await call("POST", "/v1/queues/default/resume");
    expect(resumed.json.queue).toMatchObject({ name: "default", paused: false });
    expect(await task.result()).toBe(7);
  });

  it("pausing a queue that never saw a task reports it empty and paused", async () => {
    const { call } = await start();
    const reply = await call("POST", "/v1/queues/brand-new/pause");
    expect(reply.json.queue).toEqual({
      name: "brand-new",
      depth: 0,
      waiting: 0,
      running: 0,
      paused: true,
    });
  });
});

describe("dead-letter queue", () => {
  async function withDeadLetter() {
    const started = await start();
    let calls = 0;
    started.mill.register("flaky", async () => {
      calls++;
      if (calls === 1) throw new Error("first attempt fails");
      return "second time lucky";
    });
    const task = await started.mill.submit("flaky");
    await expect(task.result()).rejects.toThrow("first attempt fails");
    return { ...started, task };
  }

  it("GET /v1/dlq lists failed tasks, filtered by name", async () => {
    const { call, task } = await withDeadLetter();
    const reply = await call("GET", "/v1/dlq?name=flaky&limit=10", { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    const page = TaskPageSchema.parse(reply.json);
    expect(page.tasks.map((t) => t.id)).toEqual([task.id]);
    expect(page.tasks[0]?.error?.message).toBe("first attempt fails");
    expect((await call("GET", "/v1/dlq?name=nope")).json).toEqual({ tasks: [], nextCursor: null });
  });

  it("POST /v1/dlq/replay with dryRun changes nothing; without it the task runs again", async () => {
    const { call, task } = await withDeadLetter();
    const dry = await call("POST", "/v1/dlq/replay", { body: { ids: [task.id], dryRun: true } });
    expect(DeadLetterOutcomeSchema.parse(dry.json)).toEqual({
      ids: [task.id],
      skipped: [],
      dryRun: true,
    });
    expect((await call("GET", "/v1/dlq")).json.tasks).toHaveLength(1);

    const replay = await call("POST", "/v1/dlq/replay", { body: { name: "flaky" } });
    expect(replay.json).toEqual({ ids: [task.id], skipped: [], dryRun: false });
    await vi.waitFor(async () => {
      const reply = await call("GET", `/v1/tasks/${task.id}`);
      expect(reply.json.task).toMatchObject({ status: "succeeded", value: "second time lucky" });
    });
    expect((await call("GET", "/v1/dlq")).json.tasks).toEqual([]);
  });

  it("POST /v1/dlq/purge deletes the selected entries", async () => {
    const { call, task } = await withDeadLetter();
    const purge = await call("POST", "/v1/dlq/purge", { body: { ids: [task.id] } });
    expect(purge.status).toBe(200);
    expect(purge.json.ids).toEqual([task.id]);
    expect((await call("GET", "/v1/dlq")).json.tasks).toEqual([]);
  });
});

describe("schedules, stats and the document", () => {
  it("GET /v1/schedules lists cron schedules with their next run", async () => {
    const { call, mill } = await start();
    mill.schedule("nightly", "0 3 * * *", "echo", { report: true });
    const reply = await call("GET", "/v1/schedules", { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.json.schedules).toEqual([
      expect.objectContaining({
        id: "nightly",
        cron: "0 3 * * *",
        taskName: "echo",
        nextRunAt: expect.any(Number),
      }),
    ]);
  });

  it("GET /v1/stats reports the manager's figures and health", async () => {
    const { call, mill } = await start();
    await (await mill.submit("echo", 1)).result();
    const reply = await call("GET", "/v1/stats", { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.json.stats).toMatchObject({ running: 0, subscribers: 0, live: 0 });
    expect(reply.json.health).toEqual({ backend: "memory", status: "connected", stopping: false });
  });

  it("GET /v1/openapi.json is an OpenAPI 3.1 document of every route, schemas from the validators", async () => {
    const { call } = await start();
    const reply = await call("GET", "/v1/openapi.json", { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    const doc = reply.json;
    expect(doc.openapi).toBe("3.1.0");
    for (const [path, method] of [
      ["/v1/tasks", "post"],
      ["/v1/tasks", "get"],
      ["/v1/tasks/{id}", "get"],
      ["/v1/tasks/{id}/cancel", "post"],
      ["/v1/queues", "get"],
      ["/v1/queues/{name}/pause", "post"],
      ["/v1/queues/{name}/resume", "post"],
      ["/v1/dlq", "get"],
      ["/v1/dlq/replay", "post"],
      ["/v1/dlq/purge", "post"],
      ["/v1/schedules", "get"],
      ["/v1/stats", "get"],
      ["/v1/results", "get"],
      ["/metrics", "get"],
      ["/healthz", "get"],
      ["/readyz", "get"],
    ] as const)
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    expect(doc.paths["/v1/tasks"].post.requestBody.content["application/json"].schema).toEqual({
      $ref: "#/components/schemas/SubmitTaskBody",
    });
    expect(doc.components.schemas.SubmitTaskBody.properties.options.properties.priority.type).toBe(
      "integer",
    );
    expect(doc.paths["/v1/tasks"].get.parameters.map((p: { name: string }) => p.name)).toEqual([
      "status",
      "queue",
      "name",
      "limit",
      "cursor",
      "order",
    ]);
    expect(doc.paths["/healthz"].get.security).toEqual([]);
  });
});

describe("probes, metrics and the dashboard shell", () => {
  it("/healthz and /readyz answer without a token", async () => {
    const { call } = await start();
    expect((await call("GET", "/healthz", { token: null })).json).toEqual({ status: "ok" });
    const ready = await call("GET", "/readyz", { token: null });
    expect(ready.status).toBe(200);
    expect(ready.json).toEqual({ status: "ready", backend: "memory" });
  });

  it("/readyz is 503 while the manager is stopping, so traffic drains away from it", async () => {
    const mill = new TaskManager();
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    mill.register("hold", () => held);
    const { call } = await start({}, {}, mill);
    await mill.submit("hold");
    await vi.waitFor(() => expect(mill.stats().running).toBe(1));
    const stopping = mill.stopGraceful();
    const reply = await call("GET", "/readyz", { token: null });
    expect(reply.status).toBe(503);
    expect(reply.json).toEqual({ status: "stopping", backend: "memory" });
    expect(mill.health().stopping).toBe(true);
    release();
    await stopping;
  });

  it("/metrics serves a prom-client Registry's text to a read token", async () => {
    const registry = new Registry();
    new Counter({ name: "admin_test_total", help: "a test counter", registers: [registry] }).inc(3);
    const { call } = await start({ metrics: registry });
    const reply = await call("GET", "/metrics", { token: READ_TOKEN });
    expect(reply.status).toBe(200);
    expect(reply.headers["content-type"]).toBe(registry.contentType);
    expect(reply.text).toContain("admin_test_total 3");
    expect((await call("GET", "/metrics", { token: null })).status).toBe(401);
  });

  it("/metrics is 404 when no metrics source is configured", async () => {
    const { call } = await start();
    const reply = await call("GET", "/metrics");
    expect(reply.status).toBe(404);
    expect(reply.json.error.code).toBe("NOT_FOUND");
  });

  it("serves the dashboard's shell and assets without a token, and 404s when they are absent", async () => {
    const dir = await mkdtemp(join(tmpdir(), "taskmill-dashboard-"));
    onCleanup(() => rm(dir, { recursive: true, force: true }));
    await writeFile(join(dir, "index.html"), "<!doctype html><title>taskmill</title>");
    await writeFile(join(dir, "app.js"), "console.log(1);");
    await writeFile(join(dir, "app.css"), "body{}");
    const { call } = await start({ dashboardDir: dir });
    const index = await call("GET", "/", { token: null });
    expect(index.status).toBe(200);
    expect(index.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(index.text).toContain("<title>taskmill</title>");
    expect((await call("GET", "/assets/app.js", { token: null })).headers["content-type"]).toBe(
      "text/javascript; charset=utf-8",
    );
    expect((await call("GET", "/assets/app.css", { token: null })).text).toBe("body{}");
    expect((await call("GET", "/assets/../index.html", { token: null })).status).toBe(404);

    const empty = await start({ dashboardDir: join(dir, "missing") });
    const missing = await empty.call("GET", "/", { token: null });
    expect(missing.status).toBe(404);
    expect(missing.json.error).toMatchObject({ code: "NOT_FOUND", requestId: expect.any(String) });
  });
});

describe("request ids", () => {
  it("every response carries x-request-id; a well-formed incoming one is reused", async () => {
    const { call } = await start();
    const fresh = await call("GET", "/healthz");
    expect(fresh.headers["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    const reused = await call("GET", "/v1/tasks/nope", {
      headers: { "x-request-id": "trace:abc-123" },
    });
    expect(reused.headers["x-request-id"]).toBe("trace:abc-123");
    expect(reused.json.error.requestId).toBe("trace:abc-123");
    const refused = await call("GET", "/healthz", {
      headers: { "x-request-id": "bad id with spaces" },
    });
    expect(refused.headers["x-request-id"]).not.toBe("bad id with spaces");
  });
});
