/**
 * The admin HTTP API next to a service: operators (the `taskmill` CLI, the dashboard, curl)
 * submit, inspect, cancel and watch tasks over HTTP. Run it with
 *   TASKMILL_TOKEN=$(openssl rand -hex 32) npx tsx examples/admin.ts
 * then, in another shell:
 *   curl -H "Authorization: Bearer $TASKMILL_TOKEN" http://127.0.0.1:8080/v1/stats
 */
import { createAdminServer, TaskManager } from "taskmill";

const token = process.env.TASKMILL_TOKEN;
if (token === undefined || token.length < 16) {
  console.error("Set TASKMILL_TOKEN to a long random secret, e.g. $(openssl rand -hex 32)");
  process.exit(1);
}

const mill = new TaskManager({ concurrency: 4 });
mill.register("report.build", async (payload: { month: string }, ctx) => {
  for (let step = 1; step <= 4; step++) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (ctx.signal.aborted) throw ctx.signal.reason;
    ctx.progress({ step, of: 4 });
  }
  return { month: payload.month, rows: 1200 };
});

const admin = await createAdminServer(mill, {
  // Loopback only: put a TLS-terminating proxy in front (or pass `https`) to expose it.
  host: "127.0.0.1",
  port: Number(process.env.PORT ?? 8080),
  auth: { tokens: [{ token, role: "write", name: "operator" }] },
});
console.log(`taskmill admin API on ${admin.url} (dashboard at ${admin.url}/)`);
console.log(
  `try: curl -H "Authorization: Bearer $TASKMILL_TOKEN" -H "content-type: application/json" -d '{"name":"report.build","payload":{"month":"2026-10"}}' ${admin.url}/v1/tasks`,
);

// Readiness turns 503 as soon as the stop begins, so a load balancer drains us first.
const shutdown = async () => {
  const report = await mill.stopGraceful({ timeoutMs: 10_000 });
  await admin.close();
  console.log("stopped", report);
};
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
