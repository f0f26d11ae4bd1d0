// The API process: the admin API (HTTP, bearer tokens) over the same Redis as the workers,
// with no handlers of its own: it submits, lists, cancels, pauses and works the DLQ, and
// records every write in the audit trail. Prometheus scrapes its metrics on METRICS_PORT.
//
//   REDIS_URL=redis://127.0.0.1:6379 TASKMILL_WRITE_TOKEN=... TASKMILL_READ_TOKEN=... \
//     node examples/deploy/api.mjs
import { Registry } from "prom-client";
import { createAdminServer, TaskManager } from "taskmill";
import { createPrometheusMetrics } from "taskmill/prometheus";
import { config } from "./config.mjs";
import { serveMetrics } from "./metrics-server.mjs";

const tokens = [
  {
    token: process.env.TASKMILL_WRITE_TOKEN,
    role: "write",
    name: process.env.TASKMILL_WRITE_NAME || "ops",
  },
  {
    token: process.env.TASKMILL_READ_TOKEN,
    role: "read",
    name: process.env.TASKMILL_READ_NAME || "viewer",
  },
].filter((entry) => entry.token);
if (tokens.length === 0) throw new Error("set TASKMILL_WRITE_TOKEN and/or TASKMILL_READ_TOKEN");

const registry = new Registry();
const mill = new TaskManager({
  backend: { type: "redis", url: config.redisUrl, prefix: config.prefix },
  metrics: createPrometheusMetrics({ registry }),
  // Ship every audit record to the log pipeline too (one JSON line each).
  hooks: { onAdmin: (record) => console.log(JSON.stringify({ msg: "admin write", ...record })) },
});
const admin = await createAdminServer(mill, {
  host: process.env.ADMIN_HOST || "0.0.0.0",
  port: Number(process.env.ADMIN_PORT || 8080),
  auth: { tokens },
  metrics: registry,
});
const metrics = await serveMetrics(registry, config.metricsPort, config.metricsHost);
console.log(
  JSON.stringify({
    msg: "api ready",
    pid: process.pid,
    admin: admin.url,
    metrics: metrics.address(),
  }),
);

async function stop(signal) {
  await admin.close();
  const report = await mill.stopGraceful({ timeoutMs: config.stopTimeoutMs });
  console.log(JSON.stringify({ msg: "api stopped", signal, report }));
  metrics.close();
  process.exit(0);
}
process.once("SIGTERM", () => void stop("SIGTERM"));
process.once("SIGINT", () => void stop("SIGINT"));
