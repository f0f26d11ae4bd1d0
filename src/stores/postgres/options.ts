/**
 * The Postgres store's own settings, resolved from the manager's `backend` and retention
 * options (the Redis store's rules and defaults: the same option means the same thing).
 */
import { InvalidOptionError } from "../../errors.js";
import { defaultBurst, type ResolvedOptions } from "../../options.js";
import { requireInteger } from "../../validation.js";
import { type ResolvedStoreOptions, resolveStoreOptions } from "../redis/options.js";
import type { ResolvedPostgresBackend } from "./backend-options.js";

/** Every store option resolved: the Redis store's shape, with the schema for its prefix. */
export interface PostgresStoreSettings extends Omit<ResolvedStoreOptions, "prefix"> {
  readonly schema: string;
}

/** Validates and resolves; throws `InvalidOptionError` naming the bad option. */
export function postgresStoreSettings(
  backend: ResolvedPostgresBackend,
  options: ResolvedOptions,
): PostgresStoreSettings {
  const rate = backend.globalRate;
  if (rate !== undefined && (typeof rate !== "object" || rate === null))
    throw new InvalidOptionError(
      "backend.globalRate",
      "must be an object { perSecond, burst? }",
      rate,
    );
  const { prefix: _prefix, ...resolved } = resolveStoreOptions({
    ...(backend.leaseMs === undefined ? {} : { leaseMs: backend.leaseMs }),
    ...(backend.maxDeliveries === undefined ? {} : { maxDeliveries: backend.maxDeliveries }),
    ...(rate === undefined
      ? {}
      : {
          globalRate: {
            perSecond: rate.perSecond,
            burst: rate.burst ?? defaultBurst(options.concurrency, rate.perSecond),
          },
        }),
    retention: options.retention,
    ...(backend.deadLetters === undefined ? {} : { deadLetters: backend.deadLetters }),
  });
  requireInteger("backend.poolSize", backend.poolSize, 1, InvalidOptionError);
  return { ...resolved, schema: backend.schema };
}

/** Checks the Postgres backend's options in the manager's constructor (no connection yet). */
export function checkPostgresBackend(
  backend: ResolvedPostgresBackend,
  options: ResolvedOptions,
): void {
  postgresStoreSettings(backend, options);
}
