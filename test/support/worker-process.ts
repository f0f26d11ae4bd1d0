/**
 * Spawns `durable-worker.mjs` child processes and follows their JSON-line reports. Only
 * processes spawned here are ever signalled, always by their own pid; `stopAll()` (call it
 * in `afterEach`) ends every one still alive, and a process `exit` hook SIGKILLs any left.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const SCRIPT = fileURLToPath(new URL("./durable-worker.mjs", import.meta.url));
const DIST = fileURLToPath(new URL("../../dist/index.js", import.meta.url));

/** One line a worker printed. */
export interface WorkerReport {
  readonly type:
    | "ready"
    | "start"
    | "done"
    | "log"
    | "stopped"
    | "submitted"
    | "submitted-all"
    | "stall"
    | "committed"
    | "rolledback";
  readonly pid: number;
  readonly label: string;
  readonly id?: string;
  readonly attempt?: number;
  readonly level?: string;
  readonly msg?: string;
  readonly taskId?: string;
  readonly reason?: string;
  readonly blockedMs?: number;
  /** On "submitted": the task's payload number. */
  readonly n?: number;
  /** On "stall", "committed", "rolledback" (the "within" behaviour): the attempt's fence. */
  readonly fence?: number;
  /** On "rolledback": the error's name. */
  readonly error?: string;
  readonly status?: string;
  /** On "stopped": the StopReport and how long the stop took. */
  readonly report?: {
    readonly finished: string[];
    readonly cancelled: string[];
    readonly abandoned: string[];
    readonly requeued: string[];
    readonly unwritten: string[];
    readonly escalated: boolean;
  };
  readonly ms?: number;
}

export type Behaviour = "hang" | "fast" | "work" | "block" | "signal" | "submit" | "within";

export interface WorkerSpec {
  /**
   * A Redis URL, or `sqlite:<file>` for the SQLite store (then `prefix` is unused), or a
   * Redis Cluster's seed URLs (passed to the worker comma-separated).
   */
  readonly url: string | readonly string[];
  readonly prefix: string;
  readonly leaseMs: number;
  readonly behaviour: Behaviour;
  readonly label: string;
  readonly concurrency?: number;
  readonly maxDeliveries?: number;
  /** Extra environment (WORK_MS, MIN_BLOCK_MS, MAX_BLOCK_MS, RELEASE_FILE). */
  readonly env?: Record<string, string>;
}

/** The worker's URL argument: a cluster's seeds comma-separated (durable-worker.mjs splits). */
function workerUrl(url: string | readonly string[]): string {
  return typeof url === "string" ? url : url.join(",");
}

const live = new Map<number, ChildProcess>();
let exitHook = false;

export class WorkerProcess {
  readonly reports: WorkerReport[] = [];
  readonly label: string;
  readonly pid: number;
  #stderr = "";
  #exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  readonly #exited: Promise<void>;

  constructor(spec: WorkerSpec) {
    if (!existsSync(DIST)) throw new Error(`${DIST} is missing: run \`npm run build\` first`);
    if (!exitHook) {
      exitHook = true;
      process.once("exit", () => {
        for (const child of live.values()) child.kill("SIGKILL");
      });
    }
    this.label = spec.label;
    const child = spawn(
      process.execPath,
      [SCRIPT, workerUrl(spec.url), spec.prefix, String(spec.leaseMs), spec.behaviour],
      {
        stdio: ["pipe", "pipe", "pipe"],
        env: {
          ...process.env,
          LABEL: spec.label,
          CONCURRENCY: String(spec.concurrency ?? 4),
          MAX_DELIVERIES: String(spec.maxDeliveries ?? 50),
          ...spec.env,
        },
      },
    );
    if (child.pid === undefined) throw new Error("could not spawn the worker process");
    this.pid = child.pid;
    live.set(child.pid, child);
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line.length === 0) continue;
        try {
          this.reports.push(JSON.parse(line) as WorkerReport);
        } catch {
          this.#stderr += `(unparsed stdout) ${line}\n`;
        }
      }
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString("utf8")).slice(-8_000);
    });
    child.stdin?.on("error", () => {});
    this.#exited = new Promise((resolve) => {
      child.once("exit", (code, signal) => {
        this.#exit = { code, signal };
        live.delete(this.pid);
        resolve();
      });
    });
  }

  get alive(): boolean {
    return this.#exit === undefined;
  }

  get exit() {
    return this.#exit;
  }

  get stderr(): string {
    return this.#stderr;
  }

  of(type: WorkerReport["type"]): WorkerReport[] {
    return this.reports.filter((report) => report.type === type);
  }

  /** Resolves once the worker printed a report matching `match`. */
  async waitFor(
    match: (report: WorkerReport) => boolean,
    timeoutMs = 10_000,
  ): Promise<WorkerReport> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.reports.find(match);
      if (found !== undefined) return found;
      if (!this.alive)
        throw new Error(`${this.label} exited (${JSON.stringify(this.#exit)}): ${this.#stderr}`);
      if (Date.now() > deadline)
        throw new Error(
          `${this.label} did not report as expected within ${timeoutMs} ms; stderr: ${this.#stderr}`,
        );
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  ready(timeoutMs = 15_000): Promise<WorkerReport> {
    return this.waitFor((report) => report.type === "ready", timeoutMs);
  }

  /** Sends SIGTERM (the worker stops gracefully) without waiting. */
  terminate(): void {
    if (this.alive) process.kill(this.pid, "SIGTERM");
  }

  /** Resolves when the process has exited by itself, or with `false` after `timeoutMs`. */
  async exitedWithin(timeoutMs: number): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const exited = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    return exited;
  }

  /** SIGKILL by pid, like a crash; resolves when the process is gone. */
  async kill(): Promise<void> {
    if (!this.alive) return;
    process.kill(this.pid, "SIGKILL");
    await this.#exited;
  }

  /** SIGTERM (graceful stop in the worker), then SIGKILL after `graceMs`. */
  async stop(graceMs = 4_000): Promise<void> {
    if (!this.alive) return;
    process.kill(this.pid, "SIGTERM");
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timedOut = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut && this.alive) await this.kill();
  }
}

const started: WorkerProcess[] = [];

/** Starts a worker process; it is ended by `stopAll()`. */
export function startWorker(spec: WorkerSpec): WorkerProcess {
  const worker = new WorkerProcess(spec);
  started.push(worker);
  return worker;
}

/** Ends every worker started by `startWorker` (graceful, then SIGKILL). */
export async function stopAll(): Promise<void> {
  await Promise.all(started.splice(0).map((worker) => worker.stop()));
}
