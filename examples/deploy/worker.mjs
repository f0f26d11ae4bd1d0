// A taskmill worker service: runs the handlers of handlers.mjs on the tasks in Redis, serves
// Prometheus metrics on METRICS_PORT, and on SIGTERM/SIGINT stops gracefully (running tasks
// finish; queued ones stay in Redis for the other workers).
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/deploy/worker.mjs
import { Registry } from "prom-client";
import { TaskManager } from "taskmill";
import { createPrometheusMetrics } from "taskmill/prometheus";
import { config } from "./config.mjs";
import { serveMetrics } from "./metrics-server.mjs";

// TASKMILL_HANDLERS: another handlers module (a path relative to this file, or absolute).
const { handlers } = await import(process.env.TASKMILL_HANDLERS || "./handlers.mjs");

const registry = new Registry();
const mill = new TaskManager({
  concurrency: config.concurrency,
  backend: { type: "redis", url: config.redisUrl, prefix: config.prefix },
  metrics: createPrometheusMetrics({ registry }),
});
for (const [name, { handler, options }] of Object.entries(handlers))
  mill.register(name, handler, options);

const metrics = await serveMetrics(registry, config.metricsPort, config.metricsHost);
console.log(
  JSON.stringify({
    msg: "worker ready",
    pid: process.pid,
    metrics: metrics.address(),
    tasks: Object.keys(handlers),
  }),
);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  const report = await mill.stopGraceful({ timeoutMs: config.stopTimeoutMs });
  console.log(JSON.stringify({ msg: "worker stopped", signal, report }));
  metrics.close();
  process.exit(0);
}
process.on("SIGTERM", () => void stop("SIGTERM"));
process.on("SIGINT", () => void stop("SIGINT"));
