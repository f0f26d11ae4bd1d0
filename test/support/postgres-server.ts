/**
 * Starts a real PostgreSQL server for integration tests: `initdb` into a fresh temporary
 * directory, `postgres` on 127.0.0.1 and a free port, trust authentication for the superuser
 * `postgres` (loopback only), and stops it by its pid afterwards.
 *
 * PostgreSQL refuses to run as root. When the tests run as root (CI containers), the data
 * directory is handed to the unprivileged user `nobody` and `initdb` and `postgres` run as that
 * user through `setpriv` (which execs, so the pid we hold is the postmaster's own).
 *
 * The binaries are found on PATH, else in Debian's `/usr/lib/postgresql/<version>/bin` (the
 * `postgresql` package does not put `initdb` or `postgres` on PATH), newest version first.
 *
 * `fsync` is off unless `durable` is set: a killed *postgres* process loses nothing either way
 * (its writes are in the OS page cache); only a machine crash would.
 *
 * Only processes this module spawned are ever signalled, always by their own pid; a process
 * `exit` hook SIGKILLs any server a crashed test run left behind.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { chown, mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

/** Options of {@link startPostgresServer}. */
export interface PostgresServerOptions {
  /** fsync on (what production runs). @default false */
  readonly durable?: boolean;
  /** Extra `-c name=value` settings. */
  readonly settings?: Readonly<Record<string, string | number>>;
  /** How long to wait for the server to accept connections. @default 30_000 */
  readonly startTimeoutMs?: number;
}

/** A running PostgreSQL server owned by this test process. */
export interface PostgresServer {
  readonly host: "127.0.0.1";
  /** The port; the same across `restart()`. */
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  readonly url: string;
  /** The data directory. */
  readonly dir: string;
  /** The postmaster's pid, `undefined` while it is down. */
  readonly pid: number | undefined;
  /** Fast shutdown (SIGINT: open transactions roll back); waits for the exit. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster, like a crash (the next start runs crash recovery). */
  kill(): Promise<void>;
  /** Starts again on the same port and directory after `stop()` or `kill()`. */
  start(): Promise<void>;
  /** `stop()` then `start()`. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  dispose(): Promise<void>;
}

const HOST = "127.0.0.1";
/** uid/gid of `nobody` on Debian. */
const NOBODY = 65534;

const live = new Map<number, ChildProcess>();
let exitHookInstalled = false;

/** The directory holding `initdb` and `postgres`. */
export function postgresBinDir(): string {
  for (const dir of (process.env.PATH ?? "").split(delimiter))
    if (dir !== "" && existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres")))
      return dir;
  const root = "/usr/lib/postgresql";
  const versions = existsSync(root)
    ? readdirSync(root)
        .filter((name) => /^\d+$/.test(name))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const version of versions) {
    const dir = join(root, version, "bin");
    if (existsSync(join(dir, "initdb")) && existsSync(join(dir, "postgres"))) return dir;
  }
  throw new Error(
    "PostgreSQL server binaries not found (initdb, postgres): install Debian's postgresql package",
  );
}

/** Whether a PostgreSQL server can be started here (for suites that skip without one). */
export function hasPostgres(): boolean {
  try {
    postgresBinDir();
    return true;
  } catch {
    return false;
  }
}

/** `initdb` into a fresh directory and start `postgres` on a free loopback port. */
export async function startPostgresServer(
  options: PostgresServerOptions = {},
): Promise<PostgresServer> {
  installExitHook();
  const bin = postgresBinDir();
  const dir = await mkdtemp(join(tmpdir(), "taskmill-pg-"));
  const data = join(dir, "data");
  const asRoot = process.getuid?.() === 0;
  if (asRoot) await chown(dir, NOBODY, NOBODY);
  try {
    const [command, args] = asUser(asRoot, join(bin, "initdb"), [
      "-D",
      data,
      "-U",
      "postgres",
      "--auth=trust",
      "--no-sync",
      "-E",
      "UTF8",
      "--locale=C",
    ]);
    await run(command, args, { cwd: dir });
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const server = new ManagedServer(bin, dir, data, await freePort(), asRoot, options);
  try {
    await server.start();
  } catch (error) {
    await server.dispose();
    throw error;
  }
  return server;
}

class ManagedServer implements PostgresServer {
  readonly host = HOST;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #output = "";

  constructor(
    readonly bin: string,
    readonly dir: string,
    readonly data: string,
    readonly port: number,
    readonly asRoot: boolean,
    readonly options: PostgresServerOptions,
  ) {}

  get url(): string {
    return `postgres://postgres@${HOST}:${this.port}/postgres`;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  async start(): Promise<void> {
    if (this.#child !== undefined) return;
    const settings: Record<string, string | number> = {
      listen_addresses: HOST,
      port: this.port,
      unix_socket_directories: this.dir,
      fsync: this.options.durable ? "on" : "off",
      full_page_writes: this.options.durable ? "on" : "off",
      max_connections: 200,
      shared_buffers: "128MB",
      ...this.options.settings,
    };
    const args = ["-D", this.data];
    for (const [name, value] of Object.entries(settings)) args.push("-c", `${name}=${value}`);
    const [command, argv] = asUser(this.asRoot, join(this.bin, "postgres"), args);
    const child = spawn(command, argv, { cwd: this.dir, stdio: ["ignore", "pipe", "pipe"] });
    this.#output = "";
    const keep = (chunk: Buffer) => {
      this.#output = (this.#output + chunk.toString()).slice(-8_000);
    };
    child.stdout?.on("data", keep);
    child.stderr?.on("data", keep);
    this.#child = child;
    if (child.pid !== undefined) live.set(child.pid, child);
    this.#exited = new Promise((resolve) => {
      child.once("exit", () => {
        if (child.pid !== undefined) live.delete(child.pid);
        if (this.#child === child) this.#child = undefined;
        resolve();
      });
    });
    await this.#waitReady(this.options.startTimeoutMs ?? 30_000);
  }

  async stop(): Promise<void> {
    await this.#signal("SIGINT", 20_000);
  }

  async kill(): Promise<void> {
    await this.#signal("SIGKILL", 10_000);
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop().catch(() => this.kill());
    await rm(this.dir, { recursive: true, force: true });
  }

  async #signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.#child;
    if (child === undefined) return;
    // A SIGKILLed postmaster leaves its backends alive for a moment; a new postmaster started
    // before they are gone refuses the data directory ("pre-existing shared memory block is
    // still in use"). So its children are noted first and awaited after it exits.
    const backends = child.pid === undefined ? [] : childrenOf(child.pid);
    child.kill(signal);
    const timer = new Promise<"timeout">((resolve) =>
      setTimeout(() => resolve("timeout"), timeoutMs).unref(),
    );
    if ((await Promise.race([this.#exited.then(() => "exited" as const), timer])) === "timeout") {
      child.kill("SIGKILL");
      await this.#exited;
    }
    await gone(backends, timeoutMs);
  }

  /** Until a connection is accepted (`pg_isready` is not always installed: a probe query). */
  async #waitReady(timeoutMs: number): Promise<void> {
    const { default: pg } = await import("pg");
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#child === undefined)
        throw new Error(`postgres exited during start\n--- output ---\n${this.#output}`);
      const client = new pg.Client({ connectionString: this.url });
      client.on("error", () => {});
      try {
        await client.connect();
        await client.query("SELECT 1");
        await client.end();
        return;
      } catch {
        await client.end().catch(() => {});
      }
      if (Date.now() > deadline)
        throw new Error(`postgres did not start within ${timeoutMs} ms\n${this.#output}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** The pids whose parent is `pid` (Linux `/proc`; empty elsewhere). */
function childrenOf(pid: number): number[] {
  if (!existsSync("/proc")) return [];
  const children: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name (field 2) is in parentheses and may hold spaces: parse after it.
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const parent = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      if (parent === pid) children.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return children;
}

/** Until none of `pids` runs any more (bounded by `timeoutMs`). */
async function gone(pids: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(running) && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 20));
}

/** Whether `pid` exists and is not a zombie (a zombie holds no shared memory; a container's
 * init may never reap it). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** The command line that runs `path` as `nobody` when we are root (postgres refuses root). */
function asUser(asRoot: boolean, path: string, args: string[]): [string, string[]] {
  if (!asRoot) return [path, args];
  return [
    "setpriv",
    [`--reuid=${NOBODY}`, `--regid=${NOBODY}`, "--clear-groups", "--", path, ...args],
  ];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === "object" && address !== null
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
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
