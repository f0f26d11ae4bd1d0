/**
 * Payloads and stack traces reach operators only behind the admin handler's opt-in
 * (`exposePayloads`), through its `redact` hook: off by default in every route that returns
 * a task, on when asked, redacted when a hook is given. Real manager, real sockets.
 */
import { InvalidOptionError, type TaskSnapshot } from "taskmill";
import { describe, expect, it, vi } from "vitest";
import { createStyle, formatTask, formatTaskTable } from "../../src/cli/format.js";
import { READ_TOKEN, start } from "./support.js";

const PAYLOAD = { to: "ada@example.com", card: { pan: "4111111111111111" } };

async function failedTask(call: Awaited<ReturnType<typeof start>>["call"]): Promise<string> {
  const reply = await call("POST", "/v1/tasks", { body: { name: "charge", payload: PAYLOAD } });
  expect(reply.status).toBe(201);
  return reply.json.task.id as string;
}

async function startWithCharge(options: Parameters<typeof start>[0] = {}) {
  const started = await start(options);
  started.mill.register("charge", () => {
    throw new Error("card declined");
  });
  return started;
}

describe("exposePayloads off (the default)", () => {
  it("no route returns a payload or a stack, though get() in code has both", async () => {
    const { call, mill } = await startWithCharge();
    const id = await failedTask(call);
    await vi.waitFor(async () => expect((await mill.get(id))?.status).toBe("failed"));
    const inCode = await mill.get(id);
    expect(inCode?.payload).toEqual(PAYLOAD);
    expect(inCode?.error?.stack).toContain("card declined");

    const replies = [
      (await call("GET", `/v1/tasks/${id}`, { token: READ_TOKEN })).json.task,
      ...(await call("GET", "/v1/tasks?name=charge")).json.tasks,
      ...(await call("GET", "/v1/dlq?name=charge")).json.tasks,
    ];
    expect(replies).toHaveLength(3);
    for (const task of replies) {
      expect(task).toMatchObject({ id, status: "failed", error: { message: "card declined" } });
      expect(task).not.toHaveProperty("payload");
      expect(task.error).not.toHaveProperty("stack");
    }
    const submitted = await call("POST", "/v1/tasks", {
      body: { name: "charge", payload: PAYLOAD },
    });
    expect(submitted.json.task).not.toHaveProperty("payload");
    expect(submitted.text).not.toContain("4111");
  });
});

describe("exposePayloads: true", () => {
  it("GET /v1/tasks/:id and GET /v1/dlq show the payload and the stack", async () => {
    const { call, mill } = await startWithCharge({ exposePayloads: true });
    const id = await failedTask(call);
    await vi.waitFor(async () => expect((await mill.get(id))?.status).toBe("failed"));
    const task = (await call("GET", `/v1/tasks/${id}`, { token: READ_TOKEN })).json.task;
    expect(task.payload).toEqual(PAYLOAD);
    expect(task.error.stack).toMatch(/^Error: card declined\n\s+at /);
    const dead = (await call("GET", "/v1/dlq?name=charge")).json.tasks;
    expect(dead).toHaveLength(1);
    expect(dead[0].payload).toEqual(PAYLOAD);
    expect(dead[0].error.stack).toContain("card declined");
  });

  it("the CLI's formatting prints them when the server sent them", () => {
    const task = {
      id: "t-1",
      name: "charge",
      queue: "default",
      status: "failed",
      priority: 0,
      attempts: 1,
      maxRetries: 0,
      createdAt: 0,
      payload: { amount: 42 },
      error: {
        name: "Error",
        message: "declined",
        stack: "Error: declined\n    at charge (a.js:1:1)",
      },
    } satisfies TaskSnapshot;
    const text = formatTask(task, createStyle(false));
    expect(text).toContain("payload:");
    expect(text).toContain('{"amount":42}');
    expect(text).toContain("stack:\n  Error: declined\n      at charge (a.js:1:1)");
    expect(formatTaskTable([task], createStyle(false))).toMatch(/PAYLOAD\n.*\{"amount":42\}/s);
    const { payload: _p, error: _e, ...bare } = task;
    expect(formatTask(bare, createStyle(false))).not.toMatch(/payload|stack/);
    expect(formatTaskTable([bare], createStyle(false))).not.toContain("PAYLOAD");
  });
});

describe("redact", () => {
  it("what the hook returns is shown instead of the payload, and the hook sees the task", async () => {
    const seen: string[] = [];
    const { call, mill } = await startWithCharge({
      exposePayloads: true,
      redact: (payload, task) => {
        seen.push(task.name);
        const p = payload as typeof PAYLOAD;
        return { ...p, card: { pan: `****${p.card.pan.slice(-4)}` } };
      },
    });
    const id = await failedTask(call);
    await vi.waitFor(async () => expect((await mill.get(id))?.status).toBe("failed"));
    const reply = await call("GET", `/v1/tasks/${id}`);
    expect(reply.json.task.payload).toEqual({ to: "ada@example.com", card: { pan: "****1111" } });
    expect(reply.text).not.toContain("4111111111111111");
    const dead = await call("GET", "/v1/dlq");
    expect(dead.text).not.toContain("4111111111111111");
    expect(seen).toEqual(["charge", "charge"]);
    // The stored payload is untouched.
    expect((await mill.get(id))?.payload).toEqual(PAYLOAD);
  });

  it("a hook that throws fails the request with 500 and sends nothing of the payload", async () => {
    const errors: unknown[] = [];
    const { call, mill } = await startWithCharge({
      exposePayloads: true,
      redact: () => {
        throw new Error("redactor broke");
      },
      onError: (error) => errors.push(error),
    });
    // Writes answer without payloads, so the hook cannot fail a submit that was done.
    const id = await failedTask(call);
    await vi.waitFor(async () => expect((await mill.get(id))?.status).toBe("failed"));
    const reply = await call("GET", `/v1/tasks/${id}`);
    expect(reply.status).toBe(500);
    expect(reply.text).not.toContain("4111");
    expect(errors.length).toBeGreaterThanOrEqual(1);
  });

  it("is refused without exposePayloads, and both options are type-checked", async () => {
    await expect(start({ redact: (p) => p })).rejects.toThrow(InvalidOptionError);
    await expect(start({ redact: (p) => p })).rejects.toThrow(/exposePayloads/);
    // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller's mistake
    await expect(start({ exposePayloads: "yes" as any })).rejects.toThrow(InvalidOptionError);
  });
});
