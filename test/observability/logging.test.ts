import { type Logger, ManualClock, TaskManager } from "taskmill";
import { afterEach, describe, expect, it } from "vitest";
import { runWorkload, sleep } from "./workload.js";

interface Line {
  readonly level: keyof Logger;
  readonly obj: Record<string, unknown>;
  readonly msg: string | undefined;
}

/** Captures every call at every level, like pino at level "trace". */
function collectingLogger(): { logger: Logger; lines: Line[] } {
  const lines: Line[] = [];
  const at =
    (level: keyof Logger) =>
    (obj: Record<string, unknown>, msg?: string): void => {
      lines.push({ level, obj, msg });
    };
  return {
    logger: { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") },
    lines,
  };
}

/** Everything a log line could carry, serialised as a JSON logger would, errors included. */
function serialise(line: Line): string {
  return JSON.stringify({ level: line.level, msg: line.msg, ...line.obj }, (_key, value) =>
    value instanceof Error
      ? { ...value, name: value.name, message: value.message, stack: value.stack }
      : value,
  );
}

const SECRET = "4111-1111-1111-1111";
const RESULT_SECRET = "tok_live_9f8e7d6c";

const stops: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
});

/**
 * The known workload (success, retries, failure for good, cancel, expiry, dropped results)
 * plus a task whose result carries a secret, every payload carrying one.
 */
async function loggedWorkload(logPayloads: boolean) {
  const { logger, lines } = collectingLogger();
  const workload = await runWorkload(
    { logger, logPayloads, metrics: false, tracing: false },
    (name) => ({ card: SECRET, name }),
  );
  const { mill, clock } = workload;
  stops.push(() => mill.stopNow());
  mill.register("token", async () => ({ token: RESULT_SECRET }));
  const task = await mill.submit("token", { card: SECRET });
  await clock.advance(100);
  await expect(task.result()).resolves.toEqual({ token: RESULT_SECRET });
  await mill.stopNow();
  return lines;
}

describe("log lines never carry payloads or results unless logPayloads is on", () => {
  it("by default no line at any level contains the payload or result secret", async () => {
    const lines = await loggedWorkload(false);
    const levels = new Set(lines.map((line) => line.level));
    // The workload produced lines at every level, so the check below covers them all.
    expect(levels).toEqual(new Set(["debug", "info", "warn", "error"]));
    expect(lines.length).toBeGreaterThan(20);
    for (const line of lines) {
      const text = serialise(line);
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(RESULT_SECRET);
    }
  });

  it("with logPayloads: true the payload and the result do appear", async () => {
    const lines = await loggedWorkload(true);
    const all = lines.map(serialise).join("\n");
    expect(all).toContain(SECRET);
    expect(all).toContain(RESULT_SECRET);
    const queued = lines.find((line) => line.msg === "taskmill task queued");
    expect(queued?.obj.payload).toEqual({ card: SECRET, name: "A" });
  });

  it("uses sensible levels: debug per transition, warn for retries, error for failures", async () => {
    const lines = await loggedWorkload(false);
    const byMessage = (msg: string) => lines.filter((line) => line.msg === msg);
    expect(byMessage("taskmill task queued").every((l) => l.level === "debug")).toBe(true);
    expect(byMessage("taskmill attempt started").every((l) => l.level === "debug")).toBe(true);
    const retries = byMessage("taskmill attempt failed; retrying");
    expect(retries.map((l) => [l.level, l.obj.attempt, l.obj.delayMs])).toEqual([
      ["warn", 1, 100],
      ["warn", 2, 100],
    ]);
    const failed = byMessage("taskmill task failed");
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({
      level: "error",
      obj: { name: "flaky", queue: "default", attempts: 3, err: { message: "flaky failed" } },
    });
    expect(byMessage("taskmill task expired")[0]?.level).toBe("warn");
    expect(byMessage("taskmill task cancelled")[0]).toMatchObject({
      level: "info",
      obj: { reason: "cancel" },
    });
    expect(byMessage("taskmill task succeeded").every((l) => l.level === "debug")).toBe(true);
  });

  it("asks pino's isLevelEnabled before building debug lines", async () => {
    const { logger, lines } = collectingLogger();
    const pinoLike = Object.assign(logger, {
      isLevelEnabled: (level: string) => level !== "debug",
    });
    const clock = new ManualClock(0);
    const mill = new TaskManager({ clock, logger: pinoLike, metrics: false, tracing: false });
    stops.push(() => mill.stopNow());
    mill.register("ok", async () => 1);
    await (await mill.submit("ok")).result();
    expect(lines.filter((line) => line.level === "debug")).toEqual([]);
  });
});

describe("hooks", () => {
  it("receive snapshots at queue, start, retry and finish", async () => {
    const seen: string[] = [];
    const clock = new ManualClock(0);
    const mill = new TaskManager({
      clock,
      metrics: false,
      tracing: false,
      retry: { maxRetries: 1, backoff: "fixed", baseDelayMs: 10, jitter: "none" },
      hooks: {
        onQueued: ({ task }) => seen.push(`queued ${task.name} ${task.status}`),
        onStart: ({ task, attempt }) => seen.push(`start ${task.name} #${attempt} ${task.status}`),
        onRetry: ({ attempt, delayMs, error }) =>
          seen.push(`retry #${attempt} in ${delayMs} ${error.message}`),
        onFinish: ({ task, status, error }) =>
          seen.push(`finish ${task.name} ${status} ${error?.message ?? ""}`.trim()),
      },
    });
    stops.push(() => mill.stopNow());
    mill.register("flaky", async () => {
      await sleep(clock, 5);
      throw new Error("nope");
    });
    const task = await mill.submit("flaky");
    task.result().catch(() => {});
    await clock.advance(100);
    expect(seen).toEqual([
      "queued flaky queued",
      "start flaky #1 running",
      "retry #1 in 10 nope",
      "start flaky #2 running",
      "finish flaky failed nope",
    ]);
  });
});
