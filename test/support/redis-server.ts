/**
 * Starts a real `redis-server` (from PATH) for integration tests: loopback only, a free port,
 * a fresh temporary directory, no RDB snapshots, and optionally an AOF that fsyncs every write.
 *
 * Only processes this module spawned are ever signalled, always by their own pid; a process
 * `exit` hook SIGKILLs any server a crashed test run left behind.
 *
 * @example
 * ```ts
 * const server = await startRedisServer({ aof: true });
 * const redis = new Redis(server.url);
 * await server.restart(); // same port, same dir: the AOF is replayed
 * await server.dispose();
 * ```
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options of {@link startRedisServer}. */
export interface RedisServerOptions {
  /** Turn on the append-only file with `appendfsync always`. @default false */
  readonly aof?: boolean;
  /** How long to wait for the server to answer PING. @default 15_000 */
  readonly startTimeoutMs?: number;
  /** How long `stop()` waits for a graceful exit before it escalates to SIGKILL. @default 10_000 */
  readonly stopTimeoutMs?: number;
  /** Extra `redis-server` arguments, e.g. `["--maxmemory-policy", "noeviction"]`. */
  readonly extraArgs?: readonly string[];
}

/** A running `redis-server` owned by this test process. */
export interface RedisServer {
  readonly host: "127.0.0.1";
  /** The port; the same across `restart()`. */
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The data directory (holds the AOF when `aof` is on). */
  readonly dir: string;
  /** The pid of the current server process, `undefined` while it is down. */
  readonly pid: number | undefined;
  /** Graceful stop (SIGTERM, which flushes the AOF); waits for the exit. Idempotent. */
  stop(): Promise<void>;
  /** `stop()` then start again on the same port and directory. */
  restart(): Promise<void>;
  /** SIGKILL, like a crash: nothing is flushed beyond what fsync already wrote. */
  kill(): Promise<void>;
  /**
   * SIGSTOP: the process stays, its sockets stay open, nothing is answered (a VM pause, a
   * black-holed path). `thaw()` (SIGCONT) resumes it; `stop()`, `kill()` and `dispose()` thaw
   * first.
   */
  freeze(): void;
  /** SIGCONT after `freeze()`. */
  thaw(): void;
  /** Starts the server again after `stop()` or `kill()`. */
  start(): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

const HOST = "127.0.0.1";
const PORT_ATTEMPTS = 6;
const OUTPUT_TAIL_CHARS = 8_000;

/** Every server process this module started and has not seen exit, by pid. */
const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

/** Starts a `redis-server` on a free loopback port. */
export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  installExitHook();
  const dir = await mkdtemp(join(tmpdir(), "taskmill-redis-"));
  let lastError: unknown;
  for (let attempt = 1; attempt <= PORT_ATTEMPTS; attempt++) {
    const port = await freePort();
    const server = new ManagedServer(port, dir, options);
    try {
      await server.start();
      return server;
    } catch (error) {
      lastError = error;
      // Another process may grab the port between our probe and redis-server's bind.
      if (!(error instanceof RedisServerStartError) || !error.addressInUse) break;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

/** `redis-server` did not come up; `output` holds the tail of what it printed. */
export class RedisServerStartError extends Error {
  readonly output: string;
  readonly addressInUse: boolean;

  constructor(message: string, output: string) {
    super(`${message}\n--- redis-server output (tail) ---\n${output || "(none)"}`);
    this.name = "RedisServerStartError";
    this.output = output;
    this.addressInUse = /address already in use/i.test(output);
  }
}

class ManagedServer implements RedisServer {
  readonly host = HOST;
  readonly url: string;
  #child: ChildProcess | undefined;
  #frozen = false;
  #exited: Promise<void> = Promise.resolve();
  #output = "";

  constructor(
    readonly port: number,
    readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {
    this.url = `redis://${HOST}:${port}`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    // A restart may race the kernel releasing the port (TIME_WAIT is fine for listeners, but a
    // slow previous exit is not): retry a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await this.#spawnAndWait();
        return;
      } catch (error) {
        const retry =
          error instanceof RedisServerStartError && error.addressInUse && attempt < PORT_ATTEMPTS;
        if (!retry) throw error;
        await delay(100 * attempt);
      }
    }
  }

  freeze(): void {
    if (this.#child === undefined || this.#frozen) return;
    this.#child.kill("SIGSTOP");
    this.#frozen = true;
  }

  thaw(): void {
    if (this.#child === undefined || !this.#frozen) return;
    this.#child.kill("SIGCONT");
    this.#frozen = false;
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.thaw();
    child.kill("SIGTERM");
    const stopTimeoutMs = this.options.stopTimeoutMs ?? 10_000;
    const exitedInTime = await withTimeout(this.#exited, stopTimeoutMs);
    if (!exitedInTime) {
      // A stuck shutdown must not hang the suite: escalate, still by our own pid.
      child.kill("SIGKILL");
      await this.#exited;
    }
  }

  async kill(): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    this.#frozen = false;
    child.kill("SIGKILL");
    await this.#exited;
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  async #spawnAndWait(): Promise<void> {
    const aof = this.options.aof === true;
    const args = [
      "--port",
      String(this.port),
      "--bind",
      HOST,
      "--dir",
      this.dir,
      "--save",
      "",
      "--appendonly",
      aof ? "yes" : "no",
      ...(aof ? ["--appendfsync", "always"] : []),
      "--daemonize",
      "no",
      ...(this.options.extraArgs ?? []),
    ];
    this.#output = "";
    const child = spawn("redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
    this.#child = child;
    const capture = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString("utf8")).slice(-OUTPUT_TAIL_CHARS);
    };
    child.stdout?.on("data", capture);
    child.stderr?.on("data", capture);
    let exitInfo: string | undefined;
    this.#exited = new Promise<void>((resolve) => {
      child.once("exit", (code, signal) => {
        exitInfo = `exited with code ${code} signal ${signal}`;
        if (child.pid !== undefined) live.delete(child.pid);
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    const spawnError = new Promise<Error>((resolve) => child.once("error", resolve));
    if (child.pid !== undefined) live.set(child.pid, child);

    const timeoutMs = this.options.startTimeoutMs ?? 15_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const failure = await Promise.race([
        spawnError.then(
          (error) => `could not spawn redis-server (is it on PATH?): ${error.message}`,
        ),
        this.#exited.then(() => `redis-server ${exitInfo ?? "exited"} before answering PING`),
        ping(this.port).then((ok) => (ok ? null : undefined)),
      ]);
      if (failure === null) return;
      if (typeof failure === "string") {
        this.#child = undefined;
        throw new RedisServerStartError(`${failure} (port ${this.port})`, this.#output);
      }
      if (Date.now() > deadline) {
        child.kill("SIGKILL");
        await this.#exited;
        throw new RedisServerStartError(
          `redis-server did not answer PING on ${HOST}:${this.port} within ${timeoutMs} ms`,
          this.#output,
        );
      }
      await delay(25);
    }
  }
}

/** True when a Redis on `port` answers PING with PONG (one short-lived socket). */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: HOST, port });
    let reply = "";
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk) => {
      reply += chunk.toString("utf8");
      // "-LOADING" while the AOF is replayed: not ready yet.
      if (reply.includes("\r\n")) done(reply.startsWith("+PONG"));
    });
  });
}

/** A port the kernel just handed out for 127.0.0.1, released again for redis-server to bind. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once("error", reject);
    server.listen({ host: HOST, port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === "object" && address !== null ? address.port : 0;
      server.close((error) => (error ? reject(error) : resolve(port)));
    });
  });
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once("exit", () => {
    for (const child of live.values()) child.kill("SIGKILL");
  });
}

async function withTimeout(promise: Promise<void>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([promise.then(() => true as const), timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
