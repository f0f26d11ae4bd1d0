// A throwaway `redis-server` for the durable suite: loopback only, a free port, a fresh
// temporary directory, no RDB snapshots and no AOF (`--save "" --appendonly no`). The plain
// .mjs counterpart of test/support/redis-server.ts, reduced to what the bench needs.
//
// Only the process this module spawned is ever signalled, by its own pid; an `exit` hook
// SIGKILLs it if the bench dies without stopping it.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const HOST = "127.0.0.1";
const PORT_ATTEMPTS = 6;
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

const live = new Map();
let exitHookInstalled = false;

function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live.values()) child.kill("SIGKILL");
  });
}

const delay = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// A port the kernel just handed out for 127.0.0.1, released again for redis-server to bind.
function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const { port } = server.address();
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

function ping(port) {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = "";
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

async function spawnOn(port, dir, extraArgs) {
  const args = [
    "--port",
    String(port),
    "--bind",
    HOST,
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--daemonize",
    "no",
    // Later values win: e.g. ["--appendonly", "yes", "--appendfsync", "always"].
    ...extraArgs,
  ];
  const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  const capture = (chunk) => {
    output = (output + chunk.toString("utf8")).slice(-8_000);
  };
  child.stdout.on("data", capture);
  child.stderr.on("data", capture);
  let exitInfo;
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => {
      exitInfo = `exited with code ${code} signal ${signal}`;
      live.delete(child.pid);
      resolve();
    });
  });
  const spawnError = new Promise((resolve) => child.once("error", resolve));
  if (child.pid !== undefined) live.set(child.pid, child);
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const outcome = await Promise.race([
      spawnError.then((e) => `could not spawn redis-server (is it on PATH?): ${e.message}`),
      exited.then(() => `redis-server ${exitInfo} before answering PING`),
      ping(port).then((ok) => (ok ? null : undefined)),
    ]);
    if (outcome === null) return { child, exited };
    if (typeof outcome === "string" || Date.now() > deadline) {
      child.kill("SIGKILL");
      await exited;
      const error = new Error(
        `${outcome ?? "redis-server did not answer PING in time"} (port ${port})\n${output}`,
      );
      error.addressInUse = /address already in use/i.test(output);
      throw error;
    }
    await delay(25);
  }
}

/**
 * Starts redis-server on a free loopback port; `stop()` ends it (by pid) and removes its dir.
 * `extraArgs` are appended to the command line (e.g. to turn AOF on).
 */
export async function startRedisServer(extraArgs = []) {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), "taskmill-bench-redis-"));
  let lastError;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    try {
      const { child, exited } = await spawnOn(port, dir, extraArgs);
      let stopped;
      return {
        host: HOST,
        port,
        url: `redis://${HOST}:${port}`,
        pid: child.pid,
        stop() {
          stopped ??= (async () => {
            child.kill("SIGTERM");
            const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
            await exited;
            clearTimeout(timer);
            await rm(dir, { recursive: true, force: true });
          })();
          return stopped;
        },
      };
    } catch (error) {
      lastError = error;
      // Another process may grab the port between our probe and redis-server's bind.
      if (!error.addressInUse) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}
