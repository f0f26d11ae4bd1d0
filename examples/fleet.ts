/**
 * Operating a fleet: configuration from the environment, a pause that holds for every process,
 * the worker registry and a shared cron schedule. Run it with
 *   TASKMILL_STORE_PATH=/tmp/fleet-example.db npx tsx examples/fleet.ts
 * (after `npm run build`): two managers share one SQLite file, as two processes would (or set
 * TASKMILL_STORE_URL=redis://127.0.0.1:6379). Without either, memory mode: one process.
 */
import { optionsFromEnv, TaskManager } from "taskmill";

const options = optionsFromEnv(process.env);
const worker = new TaskManager({ ...options, registry: { heartbeatMs: 500 } });
worker.register("report.build", (payload: { kind: string }) => ({ built: payload.kind }), {
  queue: "reports",
});
const api = options.backend === undefined ? worker : new TaskManager(options);

// The worker registry: every process with handlers, alive or lost.
await new Promise((resolve) => setTimeout(resolve, 200));
console.log("workers:", await api.workers());

// A pause from the API process stops the worker's claims too (durable stores).
await api.pauseQueue("reports");
const held = await api.submit("report.build", { kind: "held" }, { queue: "reports" });
console.log("while paused:", (await api.get(held.id))?.status);
await api.resumeQueue("reports");
console.log("after resume:", await held.result());

// A schedule registered here is fired by the cron leader, whichever process that is.
api.schedule("nightly", "0 3 * * *", "report.build", { kind: "nightly" }, { queue: "reports" });
await api.pauseSchedule("nightly");
console.log("schedules:", api.schedules());
api.unschedule("nightly");

await Promise.all([...new Set([api, worker])].map((mill) => mill.stopGraceful()));
