/**
 * Runs the built `taskmill` binary as a child process against a live admin server in the test
 * process. Build first: `npx tsc -p tsconfig.build.json` (`npm test` does it).
 */
import { type ChildProcess, execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { TaskManager } from "taskmill";

const root = fileURLToPath(new URL("../../", import.meta.url));
/** The built CLI. */
export const BIN = join(root, "dist/cli/main.js");

/** Tokens the test server accepts. */
export const WRITE_TOKEN = "test-write-token";
export const READ_TOKEN = "test-read-token-0";

/** What one run of the binary did. */
export interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Fails with a clear message when dist/cli is missing or older than src/cli. */
export function assertBuilt(): void {
  if (!existsSync(BIN))
    throw new Error(`${BIN} is missing: run "npx tsc -p tsconfig.build.json" before these tests`);
  const newest = (dir: string): number =>
    Math.max(
      ...readdirSync(dir, { withFileTypes: true }).map((entry) =>
        entry.isDirectory()
          ? newest(join(dir, entry.name))
          : statSync(join(dir, entry.name)).mtimeMs,
      ),
    );
  if (newest(join(root, "src/cli")) > statSync(BIN).mtimeMs)
    throw new Error(`${BIN} is older than src/cli: run "npx tsc -p tsconfig.build.json" first`);
}

/** Environment of a run: no colour, and only the TASKMILL_* variables the test gives. */
function envFor(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  for (const key of Object.keys(base)) if (key.startsWith("TASKMILL_")) delete base[key];
  for (const [key, value] of Object.entries(env)) if (value !== undefined) base[key] = value;
  return base;
}

/** Starts the binary; `done` settles with its exit code and output. */
export function spawnCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): { child: ChildProcess; done: Promise<RunResult> } {
  let child!: ChildProcess;
  const done = new Promise<RunResult>((resolve) => {
    child = execFile(
      process.execPath,
      [BIN, ...args],
      { env: envFor(env), timeout: 15_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === "number" ? error.code : -1;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
  return { child, done };
}

/** Runs the binary to completion. */
export function runCli(
  args: readonly string[],
  env: Record<string, string | undefined> = {},
): Promise<RunResult> {
  return spawnCli(args, env).done;
}

/** A loopback URL nobody listens on (a port just freed). */
export async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}`;
}

/** Polls `check` until it returns true (or throws after `timeoutMs`). */
export async function waitFor(
  check: () => boolean | Promise<boolean>,
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error("waitFor: condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A live admin server over a real manager, with write and read tokens. */
export async function startServer(mill: TaskManager): Promise<{
  url: string;
  close(): Promise<void>;
}> {
  const { createAdminServer } = await import("taskmill");
  const server = await createAdminServer(mill, {
    auth: {
      tokens: [
        { token: WRITE_TOKEN, role: "write", name: "ops" },
        { token: READ_TOKEN, role: "read", name: "viewer" },
      ],
    },
  });
  return { url: server.url, close: () => server.close() };
}
