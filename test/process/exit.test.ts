/**
 * A service that stops its manager must exit by itself: no timer, socket or listener of ours
 * may keep the event loop alive. These tests run the BUILT package (dist/) in a child Node
 * process, as a user's service would (`npm test` builds first).
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
const EXIT_WITHIN_MS = 10_000;

let dir: string;
beforeAll(async () => {
  if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
  dir = await mkdtemp(join(tmpdir(), "taskmill-exit-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `body` as an ES module after importing the package; resolves when the child exits. */
async function runChild(name: string, body: string): Promise<Exit> {
  const file = join(dir, `${name}.mjs`);
  const header = `import { PermanentError, TaskManager } from ${JSON.stringify(pathToFileURL(DIST).href)};\n`;
  await writeFile(file, header + body);
  const child = spawn(process.execPath, [file], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise<Exit>((resolve, reject) => {
    const watchdog = setTimeout(() => {
      // Only our own child, by its pid.
      if (child.pid !== undefined) process.kill(child.pid, "SIGKILL");
      reject(
        new Error(
          `the child did not exit within ${EXIT_WITHIN_MS} ms after stopping: something keeps the event loop alive\nstdout: ${stdout}\nstderr: ${stderr}`,
        ),
      );
    }, EXIT_WITHIN_MS);
    child.on("exit", (code, signal) => {
      clearTimeout(watchdog);
      // "exit" can precede the last "data" events; "close" follows them.
      child.on("close", () => resolve({ code, signal, stdout, stderr }));
    });
    child.on("error", (error) => {
      clearTimeout(watchdog);
      reject(error);
    });
  });
}

/** The child's last stdout line, parsed. */
function lastLine(exit: Exit): Record<string, unknown> {
  const lines = exit.stdout.trim().split("\n");
  return JSON.parse(lines[lines.length - 1] as string) as Record<string, unknown>;
}

const SETUP = `
const mill = new TaskManager({
  concurrency: 2,
  rate: { perSecond: 200 },
  timeoutMs: 5_000,
  retention: { ttlMs: 3_600_000 },
  retry: { maxRetries: 2, backoff: "fixed", baseDelayMs: 20, jitter: "none" },
});
const sleep = (ms, signal) =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener("abort", () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
mill.register("work", async (payload, ctx) => {
  await sleep(payload.ms ?? 10, ctx.signal);
  if (payload.failFirst && ctx.attempt === 1) throw new Error("retry me");
  if (payload.permanent) throw new PermanentError("no");
  return payload.label;
});
const seen = [];
for (const event of ["succeeded", "failed", "cancelled"]) mill.on(event, ({ task }) => seen.push(event));
const sub = mill.subscribeResults({ buffer: 16 });
const consumed = (async () => { let n = 0; for await (const _ of sub) n++; return n; })();
`;

describe("a process that stops its manager exits by itself", () => {
  it("after stopGraceful, with delayed, retrying and permanent-failing tasks", async () => {
    const exit = await runChild(
      "graceful",
      `${SETUP}
const handles = [
  await mill.submit("work", { label: "plain" }),
  await mill.submit("work", { label: "delayed" }, { delayMs: 50 }),
  await mill.submit("work", { label: "retried", failFirst: true }),
  await mill.submit("work", { label: "bad", permanent: true }),
  await mill.run(async () => "closure"),
];
const report = await mill.stopGraceful({ timeoutMs: 5_000 });
const results = await Promise.allSettled(handles.map((h) => h.result()));
console.log(JSON.stringify({
  report,
  results: results.map((r) => r.status === "fulfilled" ? r.value : r.reason.code),
  consumed: await consumed,
  seen: seen.length,
}));
`,
    );
    expect(exit.stderr).toBe("");
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    const out = lastLine(exit);
    expect(out.results).toEqual(["plain", "delayed", "retried", "ERR_PERMANENT", "closure"]);
    expect(out.report).toMatchObject({ cancelled: [], abandoned: [], escalated: false });
    expect(out.consumed).toBe(5);
    expect(out.seen).toBe(5);
  });

  it("after stopNow, with running, queued, long-delayed and retry-waiting tasks", async () => {
    const exit = await runChild(
      "now",
      `${SETUP}
const handles = [
  await mill.submit("work", { label: "retry-wait", ms: 0, failFirst: true }, { retry: { baseDelayMs: 60_000 } }),
  await mill.submit("work", { label: "running-a", ms: 60_000 }),
  await mill.submit("work", { label: "running-b", ms: 60_000 }),
  await mill.submit("work", { label: "queued" }),
  await mill.submit("work", { label: "delayed" }, { delayMs: 60_000 }),
];
await sleep(100);
const before = await Promise.all(handles.map(async (h) => (await mill.get(h.id)).status));
const report = await mill.stopNow();
const again = await mill.stopGraceful();
const results = await Promise.allSettled(handles.map((h) => h.result()));
console.log(JSON.stringify({
  before,
  cancelled: report.cancelled.length,
  same: again === report,
  results: results.map((r) => r.status === "fulfilled" ? r.value : r.reason.code),
}));
`,
    );
    expect(exit.stderr).toBe("");
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(lastLine(exit)).toEqual({
      before: ["retrying", "running", "running", "queued", "scheduled"],
      cancelled: 5,
      same: true,
      results: Array(5).fill("ERR_CANCELLED"),
    });
  });

  it("after a stopGraceful that escalates at its deadline", async () => {
    const exit = await runChild(
      "escalated",
      `${SETUP}
const handles = [
  await mill.submit("work", { label: "slow", ms: 60_000 }),
  await mill.submit("work", { label: "slow", ms: 60_000 }),
  await mill.submit("work", { label: "waiting" }, { delayMs: 60_000 }),
];
const report = await mill.stopGraceful({ timeoutMs: 100 });
console.log(JSON.stringify({ escalated: report.escalated, cancelled: report.cancelled.length }));
`,
    );
    expect(exit.stderr).toBe("");
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(lastLine(exit)).toEqual({ escalated: true, cancelled: 3 });
  });

  it("after a durable constructor refused a bad backend option: no socket was opened", async () => {
    // Port 1 on loopback: nothing listens, so a client that was created would keep retrying.
    const exit = await runChild(
      "refused",
      `
const codes = [];
for (const bad of [{ leaseMs: 5 }, { prefix: "a{b}" }, { maxDeliveries: -1 }, { globalRate: { perSecond: 0 } }]) {
  try {
    new TaskManager({ backend: { type: "redis", url: "redis://127.0.0.1:1", ...bad } });
    codes.push("accepted");
  } catch (error) {
    codes.push(error.code);
  }
}
console.log(JSON.stringify({ codes }));
`,
    );
    expect(exit.stderr).toBe("");
    expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    expect(lastLine(exit)).toEqual({ codes: Array(4).fill("ERR_INVALID_OPTION") });
  });
});
