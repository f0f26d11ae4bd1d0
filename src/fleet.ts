/**
 * Public types and options of the fleet operations: the worker registry (`mill.workers()`).
 */
import { InvalidOptionError } from "./errors.js";
import { requireInteger, requireKnownKeys } from "./validation.js";

/** A manager with handlers, as the worker registry shows it. */
export interface WorkerInfo {
  /** Unique per manager, new at each start. */
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  /** When the manager started, epoch ms. */
  readonly startedAt: number;
  /** Its last heartbeat, epoch ms (the store's clock in durable mode). */
  readonly lastHeartbeatAt: number;
  /** taskmill's version in that process. */
  readonly version: string;
  readonly concurrency: number;
  /** Attempts running now (as of its last heartbeat). */
  readonly running: number;
  /** Outcomes it wrote: succeeded, failed, retried, cancelled, expired. */
  readonly processed: number;
  /** Tasks it failed for good. */
  readonly failed: number;
  /** Queues it has handlers for. */
  readonly queues: readonly string[];
  /**
   * `alive` while it heartbeats; `lost` once its last heartbeat is older than
   * `registry.lostAfterMs` (killed, frozen, cut off). A lost worker is dropped from the
   * registry after `registry.dropAfterMs`; one that stops gracefully is removed at once.
   */
  readonly state: "alive" | "lost";
}

/** Options of the worker registry (durable mode). */
export interface RegistryOptions {
  /** How often a manager with handlers heartbeats. @default 5000 */
  readonly heartbeatMs?: number;
  /** Silence after which a worker is shown lost. @default 3 × heartbeatMs */
  readonly lostAfterMs?: number;
  /** Silence after which a lost worker is dropped from the registry. @default 15 minutes */
  readonly dropAfterMs?: number;
}

/** {@link RegistryOptions}, checked and filled in. */
export interface ResolvedRegistry {
  readonly heartbeatMs: number;
  readonly lostAfterMs: number;
  readonly dropAfterMs: number;
}

const REGISTRY_KEYS: ReadonlySet<string> = new Set([
  "heartbeatMs",
  "lostAfterMs",
  "dropAfterMs",
] satisfies Array<keyof RegistryOptions>);

/** Checks `registry` (`InvalidOptionError` naming the option) and fills in the defaults. */
export function resolveRegistry(registry: RegistryOptions | undefined): ResolvedRegistry {
  if (registry !== undefined && (typeof registry !== "object" || registry === null))
    throw new InvalidOptionError("registry", "must be an object", registry);
  const given = registry ?? {};
  requireKnownKeys("registry", given, REGISTRY_KEYS, InvalidOptionError);
  const heartbeatMs = given.heartbeatMs ?? 5_000;
  requireInteger("registry.heartbeatMs", heartbeatMs, 1, InvalidOptionError);
  const lostAfterMs = given.lostAfterMs ?? 3 * heartbeatMs;
  requireInteger("registry.lostAfterMs", lostAfterMs, heartbeatMs + 1, InvalidOptionError);
  const dropAfterMs = given.dropAfterMs ?? Math.max(15 * 60_000, 2 * lostAfterMs);
  requireInteger("registry.dropAfterMs", dropAfterMs, lostAfterMs, InvalidOptionError);
  return { heartbeatMs, lostAfterMs, dropAfterMs };
}
