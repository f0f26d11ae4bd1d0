import {
  type Logger,
  ManualClock,
  type TaskEventName,
  type TaskEvents,
  TaskManager,
  type TaskManagerOptions,
} from "taskmill";
import { afterEach, describe, expect, it } from "vitest";

const EVENT_NAMES: readonly TaskEventName[] = [
  "queued",
  "started",
  "progress",
  "retrying",
  "succeeded",
  "failed",
  "cancelled",
  "expired",
  "dropped",
];

const mills: TaskManager[] = [];

function makeMill(options: TaskManagerOptions = {}): { mill: TaskManager; clock: ManualClock } {
  const clock = new ManualClock(Date.UTC(2026, 0, 1));
  const mill = new TaskManager({
    clock,
    retry: { maxRetries: 0, backoff: "fixed", baseDelayMs: 100, jitter: "none" },
    ...options,
  });
  mill.register("echo", async (payload: unknown) => payload);
  mills.push(mill);
  return { mill, clock };
}

afterEach(async () => {
  for (const mill of mills.splice(0)) await mill.stopNow();
});

interface Seen {
  event: TaskEventName;
  id: string | undefined;
  status: string | undefined;
  payload: unknown;
}

/** Records every event (name, task id, task status at emit time) in order. */
function record(mill: TaskManager): Seen[] {
  const seen: Seen[] = [];
  for (const event of EVENT_NAMES) {
    mill.on(event, (payload: TaskEvents[typeof event]) => {
      const task = "task" in payload ? payload.task : undefined;
      seen.push({ event, id: task?.id, status: task?.status, payload });
    });
  }
  return seen;
}

const namesFor = (seen: Seen[], id: string) => seen.filter((s) => s.id === id).map((s) => s.event);

function collectingLogger() {
  const calls: { level: keyof Logger; obj: Record<string, unknown>; msg: string | undefined }[] =
    [];
  const logger: Logger = {
    debug: (obj, msg) => calls.push({ level: "debug", obj, msg }),
    info: (obj, msg) => calls.push({ level: "info", obj, msg }),
    warn: (obj, msg) => calls.push({ level: "warn", obj, msg }),
    error: (obj, msg) => calls.push({ level: "error", obj, msg }),
  };
  return { logger, calls };
}

describe("lifecycle events fire once per transition, in order", () => {
  it("success: queued, started, succeeded", async () => {
    const { mill, clock } = makeMill();
    const seen = record(mill);
    const task = await mill.submit("echo", 5);
    await clock.advance(0);
    expect(namesFor(seen, task.id)).toEqual(["queued", "started", "succeeded"]);
    expect(seen.map((s) => s.status)).toEqual(["queued", "running", "succeeded"]);
    expect(seen[1]?.payload).toMatchObject({ attempt: 1 });
    expect(seen[2]?.payload).toMatchObject({ value: 5 });
  });

  it("retry then success: queued, started, retrying, started, succeeded", async () => {
    const { mill, clock } = makeMill();
    let calls = 0;
    mill.register("flaky", async () => {
      calls++;
      if (calls === 1) throw new Error("first try fails");
      return "ok";
    });
    const seen = record(mill);
    const task = await mill.submit("flaky", undefined, { retry: { maxRetries: 2 } });
    await clock.advance(0);
    expect(namesFor(seen, task.id)).toEqual(["queued", "started", "retrying"]);
    await clock.advance(100);
    expect(namesFor(seen, task.id)).toEqual([
      "queued",
      "started",
      "retrying",
      "started",
      "succeeded",
    ]);
    const retrying = seen.find((s) => s.event === "retrying")?.payload;
    expect(retrying).toMatchObject({
      attempt: 1,
      delayMs: 100,
      error: { name: "Error", message: "first try fails" },
      task: { status: "retrying" },
    });
    expect(seen.filter((s) => s.event === "started").map((s) => s.payload)).toMatchObject([
      { attempt: 1 },
      { attempt: 2 },
    ]);
  });

  it("failure: queued, started, (retrying, started)*, failed", async () => {
    const { mill, clock } = makeMill();
    mill.register("boom", async () => {
      throw Object.assign(new Error("nope"), { code: "E_NOPE" });
    });
    const seen = record(mill);
    const once = await mill.submit("boom");
    const twice = await mill.submit("boom", undefined, { retry: { maxRetries: 1 } });
    await clock.advance(1_000);
    expect(namesFor(seen, once.id)).toEqual(["queued", "started", "failed"]);
    expect(namesFor(seen, twice.id)).toEqual([
      "queued",
      "started",
      "retrying",
      "started",
      "failed",
    ]);
    const failed = seen.find((s) => s.event === "failed" && s.id === once.id)?.payload;
    expect(failed).toMatchObject({
      task: { status: "failed", attempts: 1 },
      error: { name: "Error", message: "nope", code: "E_NOPE" },
    });
  });

  it("cancel: queued, cancelled (waiting) and queued, started, cancelled (running)", async () => {
    const { mill, clock } = makeMill({ concurrency: 1 });
    mill.register("hang", (_payload, ctx) => {
      return new Promise((_resolve, reject) => {
        ctx.signal.addEventListener("abort", () => reject(ctx.signal.reason));
      });
    });
    const seen = record(mill);
    const running = await mill.submit("hang");
    const waiting = await mill.submit("echo", 1);
    await clock.advance(0);
    await mill.cancel(waiting.id);
    await mill.cancel(running.id);
    expect(await mill.cancel(running.id)).toBe(false);
    await clock.advance(1_000);
    expect(namesFor(seen, waiting.id)).toEqual(["queued", "cancelled"]);
    expect(namesFor(seen, running.id)).toEqual(["queued", "started", "cancelled"]);
    expect(seen.find((s) => s.event === "cancelled")?.payload).toMatchObject({ reason: "cancel" });
  });

  it("expire: queued, expired", async () => {
    const { mill, clock } = makeMill();
    mill.pauseQueue("held");
    const seen = record(mill);
    const task = await mill.submit("echo", 1, { queue: "held", ttlMs: 500 });
    await clock.advance(1_000);
    mill.resumeQueue("held");
    await clock.advance(0);
    expect(namesFor(seen, task.id)).toEqual(["queued", "expired"]);
    expect(seen.at(-1)?.payload).toMatchObject({ task: { status: "expired" } });
  });

  it("a delayed task emits queued with status scheduled, then starts once due", async () => {
    const { mill, clock } = makeMill();
    const seen = record(mill);
    const task = await mill.submit("echo", 1, { delayMs: 1_000 });
    await clock.advance(1_000);
    expect(namesFor(seen, task.id)).toEqual(["queued", "started", "succeeded"]);
    expect(seen[0]?.status).toBe("scheduled");
  });

  it("many tasks: each id sees exactly one terminal event", async () => {
    const { mill, clock } = makeMill({ concurrency: 3 });
    mill.register("sometimes", async (n: number) => {
      if (n % 4 === 0) throw new Error("bad");
      return n;
    });
    const seen = record(mill);
    const ids = [];
    for (let i = 0; i < 40; i++)
      ids.push((await mill.submit("sometimes", i, { retry: { maxRetries: i % 2 } })).id);
    await clock.advance(10_000);
    const terminal = new Set(["succeeded", "failed", "cancelled", "expired"]);
    for (const id of ids) {
      const names = namesFor(seen, id);
      expect(names.filter((n) => terminal.has(n))).toHaveLength(1);
      expect(names[0]).toBe("queued");
      expect(terminal.has(names.at(-1) as string)).toBe(true);
    }
  });
});

describe("progress", () => {
  it("ctx.progress(value) emits a progress event and updates snapshot.progress", async () => {
    const { mill, clock } = makeMill();
    const snapshots: unknown[] = [];
    mill.register("work", async (_payload, ctx) => {
      ctx.progress(0.25);
      await new Promise((resolve) => clock.setTimer(() => resolve(undefined), 100));
      ctx.progress({ done: 3, of: 4 });
      await new Promise((resolve) => clock.setTimer(() => resolve(undefined), 100));
      return "done";
    });
    const seen = record(mill);
    const task = await mill.submit("work");
    await clock.advance(50);
    snapshots.push((await mill.get(task.id))?.progress);
    await clock.advance(100);
    snapshots.push((await mill.get(task.id))?.progress);
    await clock.advance(100);
    expect(snapshots).toEqual([0.25, { done: 3, of: 4 }]);
    expect(namesFor(seen, task.id)).toEqual([
      "queued",
      "started",
      "progress",
      "progress",
      "succeeded",
    ]);
    const progress = seen.filter((s) => s.event === "progress").map((s) => s.payload);
    expect(progress).toMatchObject([
      { value: 0.25, task: { progress: 0.25, status: "running" } },
      { value: { done: 3, of: 4 } },
    ]);
    // The last reported progress stays on the finished record.
    expect((await mill.get(task.id))?.progress).toEqual({ done: 3, of: 4 });
  });

  it("progress after the attempt settled or was aborted is ignored", async () => {
    const { mill, clock } = makeMill();
    let saved: { progress(value: unknown): void } | undefined;
    mill.register("leaky", async (_payload, ctx) => {
      saved = ctx;
      return 1;
    });
    const seen = record(mill);
    const task = await mill.submit("leaky");
    await clock.advance(0);
    saved?.progress(99);
    expect(namesFor(seen, task.id)).not.toContain("progress");
    expect((await mill.get(task.id))?.progress).toBeUndefined();
  });
});

describe("a throwing listener changes nothing", () => {
  it("sync and async throwers: the task still succeeds, other listeners still run, logger told", async () => {
    const { logger, calls } = collectingLogger();
    const { mill, clock } = makeMill({ logger });
    const after: TaskEventName[] = [];
    for (const event of ["queued", "started", "succeeded"] as const) {
      mill.on(event, () => {
        throw new Error(`sync ${event}`);
      });
      mill.on(event, async () => {
        throw new Error(`async ${event}`);
      });
      mill.on(event, () => {
        after.push(event);
      });
    }
    const sub = mill.subscribeResults();
    const task = await mill.submit("echo", 42);
    await clock.advance(0);
    await expect(task.result()).resolves.toBe(42);
    expect((await mill.get(task.id))?.status).toBe("succeeded");
    expect(after).toEqual(["queued", "started", "succeeded"]);
    expect(sub.buffered).toBe(1);
    const reported = calls.filter((c) => c.level === "error");
    expect(reported).toHaveLength(6);
    expect(reported.map((c) => (c.obj.err as Error).message).sort()).toEqual(
      [
        "async queued",
        "async started",
        "async succeeded",
        "sync queued",
        "sync started",
        "sync succeeded",
      ].sort(),
    );
    for (const c of reported) expect(c.obj.event).toBeDefined();
    expect(mill.stats()).toMatchObject({ succeeded: 1, failed: 0, running: 0, live: 0 });
  });

  it("a throwing failed/retrying/dropped/progress listener changes nothing either", async () => {
    const { logger, calls } = collectingLogger();
    const { mill, clock } = makeMill({ logger, concurrency: 1 });
    mill.register("flaky", async (_payload, ctx) => {
      ctx.progress(1);
      throw new Error("always");
    });
    for (const event of ["retrying", "failed", "dropped", "progress", "expired"] as const)
      mill.on(event, () => {
        throw new Error(event);
      });
    mill.subscribeResults({ buffer: 1, overflow: "drop-newest" });
    const flaky = await mill.submit("flaky", undefined, { retry: { maxRetries: 1 } });
    const ok = await mill.submit("echo", 1);
    mill.pauseQueue("held");
    const expiring = await mill.submit("echo", 2, { queue: "held", ttlMs: 10 });
    await clock.advance(1_000);
    await expect(flaky.result()).rejects.toThrow("always");
    await expect(ok.result()).resolves.toBe(1);
    await expect(expiring.result()).rejects.toMatchObject({ code: "ERR_EXPIRED" });
    // Listener reports carry `event`; the task's own "taskmill task failed" line does not.
    const messages = calls
      .filter((c) => c.level === "error" && c.obj.event !== undefined)
      .map((c) => (c.obj.err as Error).message);
    expect(new Set(messages)).toEqual(
      new Set(["retrying", "failed", "dropped", "progress", "expired"]),
    );
    expect(mill.stats()).toMatchObject({ live: 0, running: 0 });
  });

  it("a logger that throws while reporting a listener error changes nothing", async () => {
    const explode = () => {
      throw new Error("logger down");
    };
    const { mill, clock } = makeMill({
      logger: { debug: explode, info: explode, warn: explode, error: explode },
    });
    mill.on("succeeded", () => {
      throw new Error("listener");
    });
    const task = await mill.submit("echo", 1);
    await clock.advance(0);
    await expect(task.result()).resolves.toBe(1);
  });
});

describe("on / once / off", () => {
  it("once fires for the next event only; off removes a listener", async () => {
    const { mill, clock } = makeMill();
    const onceSeen: string[] = [];
    const onSeen: string[] = [];
    const listener = ({ task }: TaskEvents["succeeded"]) => onSeen.push(task.id);
    mill.once("succeeded", ({ task }) => onceSeen.push(task.id));
    mill.on("succeeded", listener);
    const a = await mill.submit("echo", 1);
    await clock.advance(0);
    mill.off("succeeded", listener);
    await mill.submit("echo", 2);
    await clock.advance(0);
    expect(onceSeen).toEqual([a.id]);
    expect(onSeen).toEqual([a.id]);
  });
});
