/**
 * Draining on deploy: on SIGTERM (what Kubernetes, systemd and most platforms send) or SIGINT,
 *
 *   1. stop the HTTP server from accepting new connections (`server.close()`),
 *   2. let taskmill finish running and queued work until a deadline (`stopGraceful`),
 *      aborting whatever is left at the deadline (handlers see `ctx.signal` fire),
 *   3. log the stop report and exit.
 *
 * Keep DRAIN_TIMEOUT_MS below the platform's kill grace period (Kubernetes:
 * terminationGracePeriodSeconds, 30 s by default) so the report is always written.
 *
 * Run it: `npx tsx examples/drain-on-deploy.ts` and send it SIGTERM, or
 * `npx tsx examples/drain-on-deploy.ts --demo` to have it submit slow tasks and send itself
 * SIGTERM while they run.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { ShuttingDownError, TaskManager } from "taskmill";

const DRAIN_TIMEOUT_MS = Number(process.env.DRAIN_TIMEOUT_MS ?? 1_000);
const demo = process.argv.includes("--demo");

const mill = new TaskManager({ concurrency: 2 });

mill.register("report.render", async (payload: { pages: number }, ctx) => {
  for (let page = 1; page <= payload.pages; page++) {
    // Honour the signal: at the drain deadline the attempt is aborted and must let go.
    await sleep(100, undefined, { signal: ctx.signal });
    ctx.progress({ page, of: payload.pages });
  }
  return { pages: payload.pages };
});

mill.on("succeeded", ({ task }) => console.log(`done       ${short(task.id)}`));
mill.on("cancelled", ({ task, reason }) => console.log(`cancelled  ${short(task.id)} (${reason})`));

const server = createServer(async (req, res) => {
  if (req.method !== "POST" || req.url !== "/reports") {
    res.writeHead(404).end();
    return;
  }
  try {
    const task = await mill.submit("report.render", { pages: 3 });
    res.writeHead(202, { "content-type": "application/json" }).end(JSON.stringify({ id: task.id }));
  } catch (error) {
    // A request that slipped in on an open connection during the drain is told to retry.
    const status = error instanceof ShuttingDownError ? 503 : 500;
    res.writeHead(status, { "retry-after": "1" }).end(String(error));
  }
});

let draining = false;

async function drain(signal: NodeJS.Signals): Promise<void> {
  if (draining) return; // a second signal while draining changes nothing
  draining = true;
  const started = Date.now();
  const waiting = (await mill.queues()).reduce((sum, queue) => sum + queue.depth, 0);
  console.log(`${signal}: draining (${mill.stats().running} running, ${waiting} queued)`);

  // 1. No new connections; idle keep-alive connections are closed now.
  const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();

  // 2. Finish what we hold, up to the deadline; then abort the rest.
  const report = await mill.stopGraceful({ timeoutMs: DRAIN_TIMEOUT_MS });

  // 3. Report and exit. Requests still open got their answers above.
  await serverClosed;
  console.log(
    JSON.stringify({
      msg: "drained",
      ms: Date.now() - started,
      finished: report.finished.length,
      cancelled: report.cancelled.length,
      abandoned: report.abandoned.length,
      escalated: report.escalated,
    }),
  );
  // Nothing of ours is left holding the event loop, so the process ends here by itself.
  process.exitCode = report.abandoned.length > 0 ? 1 : 0;
}

process.once("SIGTERM", (signal) => void drain(signal));
process.once("SIGINT", (signal) => void drain(signal));

server.listen(Number(process.env.PORT ?? 0), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  console.log(`listening on http://127.0.0.1:${port}  (POST /reports; pid ${process.pid})`);
  if (demo) void runDemo(`http://127.0.0.1:${port}`);
});

async function runDemo(base: string): Promise<void> {
  // Ten reports of 300 ms each on two workers: ~1.5 s of work. SIGTERM arrives after 350 ms;
  // with the default 1 s drain deadline most finish and the last ones are cancelled.
  for (let i = 0; i < 10; i++) {
    const response = await fetch(`${base}/reports`, { method: "POST" });
    const { id } = (await response.json()) as { id: string };
    console.log(`submitted  ${short(id)}`);
  }
  await sleep(350);
  console.log("deploy: sending SIGTERM to myself");
  process.kill(process.pid, "SIGTERM");
}

function short(id: string): string {
  return id.slice(-8);
}
