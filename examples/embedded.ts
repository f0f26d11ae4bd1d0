/**
 * Durable background work without a server: tasks live in one SQLite file beside the service.
 * This script plays the service and kills it: it starts the service as a child process, lets it
 * store 10 report tasks and finish a few, kills it with SIGKILL while others are running, then
 * starts it again on the same file. The restarted service finds the tasks that were waiting,
 * gets the ones that were running back once their lease (1 s) lapsed, and finishes all 10.
 *
 *   npm run build && npx tsx examples/embedded.ts
 *
 * (`npx tsx examples/embedded.ts service` runs the service alone, on TASKMILL_DB or a file in
 * the temporary directory; stop it with Ctrl-C.)
 */
import { type ChildProcess, spawn } from "node:child_process";
import { rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TaskManager } from "taskmill";

const path = process.env.TASKMILL_DB ?? join(tmpdir(), "taskmill-embedded-example.db");
const REPORTS = 10;

async function service(): Promise<void> {
  const mill = new TaskManager({
    concurrency: 2,
    // A submit resolves once the task is fsynced into the file; leases of 1 s.
    backend: { type: "sqlite", path, leaseMs: 1_000 },
  });
  mill.register("report.build", async (payload: { n: number }, ctx) => {
    console.log(`[${process.pid}] building report ${payload.n} (attempt ${ctx.attempt})`);
    await new Promise((resolve) => setTimeout(resolve, 400));
    return { report: payload.n, builtBy: process.pid };
  });
  // Idempotency keys: the restarted service submits the same 10 reports and gets the tasks the
  // first run stored, finished or not, instead of new ones.
  const handles = await Promise.all(
    Array.from({ length: REPORTS }, (_, n) =>
      mill.submit("report.build", { n }, { idempotencyKey: `report-${n}` }),
    ),
  );
  console.log(`[${process.pid}] ${REPORTS} reports stored in ${path}`);
  let done = 0;
  for (const handle of handles)
    void handle.result().then((value) => {
      console.log(`[${process.pid}] done: ${JSON.stringify(value)}`);
      if (++done === REPORTS) console.log(`[${process.pid}] all ${REPORTS} reports done`);
    });
  process.once(
    "SIGTERM",
    () => void mill.stopGraceful({ timeoutMs: 5_000 }).then(() => process.exit(0)),
  );
  process.once(
    "SIGINT",
    () => void mill.stopGraceful({ timeoutMs: 5_000 }).then(() => process.exit(0)),
  );
}

/** Starts the service as a child process; resolves once it printed `line` `count` times. */
function startService(): {
  child: ChildProcess;
  printed: (text: string, count?: number) => Promise<void>;
} {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), "service"],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, TASKMILL_DB: path },
    },
  );
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    process.stdout.write(chunk);
    output += chunk.toString("utf8");
  });
  const printed = async (text: string, count = 1) => {
    while (output.split(text).length - 1 < count) {
      if (child.exitCode !== null) throw new Error("the service exited");
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  };
  return { child, printed };
}

async function demo(): Promise<void> {
  rmSync(path, { force: true });
  rmSync(`${path}-wal`, { force: true });
  rmSync(`${path}-shm`, { force: true });
  const first = startService();
  await first.printed("done:", 3);
  first.child.kill("SIGKILL");
  console.log(
    "--- the service was killed with SIGKILL, reports still running; starting it again ---",
  );
  const second = startService();
  await second.printed(`all ${REPORTS} reports done`);
  second.child.kill("SIGTERM");
  await new Promise((resolve) => second.child.once("exit", resolve));
  console.log("--- every report was built, though the service died with work in flight ---");
}

if (process.argv[2] === "service") await service();
else await demo();
