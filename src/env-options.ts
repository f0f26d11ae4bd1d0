/**
 * `optionsFromEnv(process.env)`: a manager's options from `TASKMILL_*` variables, for services
 * configured by their environment (containers, twelve-factor). Every value is checked as the
 * constructor checks it, and a refusal names the variable: `InvalidOptionError` with
 * `option: "TASKMILL_CONCURRENCY"`. An unknown `TASKMILL_*` variable is refused too, with the
 * nearest known name (a misspelt variable would otherwise be ignored without a word).
 */
import { InvalidOptionError } from "./errors.js";
import { resolveOptions, type TaskManagerOptions } from "./options.js";
import { nearestKey } from "./validation.js";

type Kind = "string" | "integer" | "number";

/** One variable: the option it sets (a path into the options) and how its text is read. */
interface Variable {
  readonly path: readonly string[];
  readonly kind: Kind;
}

/** Every variable `optionsFromEnv` reads (docs/configuration.md has them as a table). */
export const ENV_VARIABLES: Readonly<Record<string, Variable>> = {
  TASKMILL_STORE: { path: ["backend", "type"], kind: "string" },
  TASKMILL_STORE_URL: { path: ["backend", "url"], kind: "string" },
  TASKMILL_STORE_PATH: { path: ["backend", "path"], kind: "string" },
  TASKMILL_PREFIX: { path: ["backend", "prefix"], kind: "string" },
  TASKMILL_REDIS_LAYOUT: { path: ["backend", "layout"], kind: "string" },
  TASKMILL_SCHEMA: { path: ["backend", "schema"], kind: "string" },
  TASKMILL_LEASE_MS: { path: ["backend", "leaseMs"], kind: "integer" },
  TASKMILL_MAX_DELIVERIES: { path: ["backend", "maxDeliveries"], kind: "integer" },
  TASKMILL_CALL_TIMEOUT_MS: { path: ["backend", "callTimeoutMs"], kind: "integer" },
  TASKMILL_GLOBAL_RATE_PER_SECOND: { path: ["backend", "globalRate", "perSecond"], kind: "number" },
  TASKMILL_GLOBAL_RATE_BURST: { path: ["backend", "globalRate", "burst"], kind: "integer" },
  TASKMILL_DEAD_LETTERS_TTL_MS: { path: ["backend", "deadLetters", "ttlMs"], kind: "integer" },
  TASKMILL_DEAD_LETTERS_MAX_ENTRIES: {
    path: ["backend", "deadLetters", "maxEntries"],
    kind: "integer",
  },
  TASKMILL_CONCURRENCY: { path: ["concurrency"], kind: "integer" },
  TASKMILL_RATE_PER_SECOND: { path: ["rate", "perSecond"], kind: "number" },
  TASKMILL_RATE_BURST: { path: ["rate", "burst"], kind: "integer" },
  TASKMILL_RETRY_MAX_RETRIES: { path: ["retry", "maxRetries"], kind: "integer" },
  TASKMILL_RETRY_BACKOFF: { path: ["retry", "backoff"], kind: "string" },
  TASKMILL_RETRY_BASE_DELAY_MS: { path: ["retry", "baseDelayMs"], kind: "integer" },
  TASKMILL_RETRY_MAX_DELAY_MS: { path: ["retry", "maxDelayMs"], kind: "integer" },
  TASKMILL_RETRY_JITTER: { path: ["retry", "jitter"], kind: "string" },
  TASKMILL_TASK_TIMEOUT_MS: { path: ["timeoutMs"], kind: "integer" },
  TASKMILL_RETENTION_TTL_MS: { path: ["retention", "ttlMs"], kind: "integer" },
  TASKMILL_RETENTION_MAX_ENTRIES: { path: ["retention", "maxEntries"], kind: "integer" },
  TASKMILL_HEARTBEAT_MS: { path: ["registry", "heartbeatMs"], kind: "integer" },
  TASKMILL_WORKER_LOST_AFTER_MS: { path: ["registry", "lostAfterMs"], kind: "integer" },
  TASKMILL_WORKER_DROP_AFTER_MS: { path: ["registry", "dropAfterMs"], kind: "integer" },
};

/**
 * Variables of taskmill's other tools, accepted and left alone here: the CLI's (`TASKMILL_URL`,
 * `TASKMILL_TOKEN`, `TASKMILL_TIMEOUT_MS`, `TASKMILL_DATABASE_URL`).
 */
export const OTHER_TOOLS_VARIABLES: ReadonlySet<string> = new Set([
  "TASKMILL_URL",
  "TASKMILL_TOKEN",
  "TASKMILL_TIMEOUT_MS",
  "TASKMILL_DATABASE_URL",
]);

const KNOWN: ReadonlySet<string> = new Set([
  ...Object.keys(ENV_VARIABLES),
  ...OTHER_TOOLS_VARIABLES,
]);

/**
 * The manager's options read from `TASKMILL_*` variables of `env` (usually `process.env`),
 * checked as `new TaskManager(options)` checks them. Unset and empty variables are left out
 * (the option's default applies). Without `TASKMILL_STORE`, the store follows from
 * `TASKMILL_STORE_URL` (`redis://`, `rediss://`: Redis; `postgres://`, `postgresql://`:
 * Postgres) or `TASKMILL_STORE_PATH` (SQLite); with none of them, memory mode.
 *
 * Spread the result to add what the environment cannot hold (a logger, a clock):
 * `new TaskManager({ ...optionsFromEnv(process.env), logger })`.
 *
 * @throws InvalidOptionError naming the variable (its `option`) for a value the constructor
 *   would refuse, and for an unknown `TASKMILL_*` variable (with the nearest known name).
 */
export function optionsFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): TaskManagerOptions {
  if (typeof env !== "object" || env === null)
    throw new InvalidOptionError("env", "must be an object of environment variables", env);
  const options: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(env)) {
    if (!name.startsWith("TASKMILL_") || raw === undefined || raw === "") continue;
    if (!KNOWN.has(name)) {
      const nearest = nearestKey(name, KNOWN);
      const hint = nearest === undefined ? "" : `did you mean ${nearest}? `;
      throw new InvalidOptionError(
        name,
        `is not a taskmill variable (${hint}see docs/configuration.md)`,
        raw,
      );
    }
    const variable = ENV_VARIABLES[name];
    if (variable === undefined) continue;
    set(options, variable.path, parse(name, variable.kind, raw));
  }
  const backend = options.backend as Record<string, unknown> | undefined;
  if (backend !== undefined && backend.type === undefined) backend.type = storeOf(backend);
  // A Redis Cluster: its seed URLs, comma-separated (no single Redis URL holds a comma).
  if (backend?.type === "redis" && typeof backend.url === "string" && backend.url.includes(","))
    backend.url = backend.url.split(",").map((url) => url.trim());
  try {
    resolveOptions(options as TaskManagerOptions);
  } catch (error) {
    throw error instanceof InvalidOptionError ? asVariableError(error) : error;
  }
  return options as TaskManagerOptions;
}

function parse(name: string, kind: Kind, raw: string): string | number {
  const text = raw.trim();
  if (kind === "string") return text;
  const pattern = kind === "integer" ? /^-?\d+$/ : /^-?\d+(\.\d+)?$/;
  if (!pattern.test(text))
    throw new InvalidOptionError(
      name,
      kind === "integer" ? "must be an integer" : "must be a number",
      raw,
    );
  return Number(text);
}

function set(target: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    node[key] ??= {};
    node = node[key] as Record<string, unknown>;
  }
  node[path[path.length - 1] as string] = value;
}

/** The store a URL or path names, when `TASKMILL_STORE` is not set. */
function storeOf(backend: Record<string, unknown>): string {
  const url = typeof backend.url === "string" ? backend.url : undefined;
  if (url !== undefined) {
    if (/^rediss?:\/\//i.test(url)) return "redis";
    if (/^postgres(ql)?:\/\//i.test(url)) return "postgres";
    throw new InvalidOptionError(
      "TASKMILL_STORE_URL",
      "must be a redis://, rediss://, postgres:// or postgresql:// URL (or set TASKMILL_STORE)",
      url,
    );
  }
  if (backend.path !== undefined) return "sqlite";
  throw new InvalidOptionError(
    "TASKMILL_STORE",
    "must be set (memory, redis, postgres or sqlite) when store settings are given",
    undefined,
  );
}

/** The constructor's refusal, naming the variable that set the refused option. */
function asVariableError(error: InvalidOptionError): InvalidOptionError {
  let best: [string, number] | undefined;
  for (const [name, { path }] of Object.entries(ENV_VARIABLES)) {
    const option = path.join(".");
    if (
      error.option === option ||
      error.option.startsWith(`${option}.`) ||
      error.option.startsWith(`${option}[`)
    ) {
      if (best === undefined || option.length > best[1]) best = [name, option.length];
    } else if (option.startsWith(`${error.option}.`) && best === undefined) best = [name, 0];
  }
  if (best === undefined) return error;
  return new InvalidOptionError(
    best[0],
    `${error.requirement} (option ${error.option})`,
    error.value,
  );
}
