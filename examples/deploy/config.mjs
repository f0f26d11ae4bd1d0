// The settings both services read from the environment, checked once at start.

function required(name) {
  const value = process.env[name];
  if (value === undefined || value === "") throw new Error(`${name} must be set`);
  return value;
}

function integer(name, fallback) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be an integer`);
  return value;
}

export const config = {
  redisUrl: required("REDIS_URL"),
  prefix: process.env.TASKMILL_PREFIX || "taskmill",
  concurrency: integer("TASKMILL_CONCURRENCY", 8),
  metricsPort: integer("METRICS_PORT", 9464),
  metricsHost: process.env.METRICS_HOST || "0.0.0.0",
  /** How long a graceful stop may take on SIGTERM (keep it below the orchestrator's grace). */
  stopTimeoutMs: integer("TASKMILL_STOP_TIMEOUT_MS", 25_000),
};
