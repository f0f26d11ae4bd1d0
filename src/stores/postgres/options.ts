/**
 * The Postgres store's own settings, resolved from the manager's `backend` and retention
 * options (the rules and defaults every store keeps: the same option means the same thing).
 */
import { InvalidOptionError } from "../../errors.js";
import type { ResolvedOptions } from "../../options.js";
import { requireInteger } from "../../validation.js";
import {
  type ResolvedStoreOptionsBase,
  resolveStoreOptionsBase,
  storeOptionsOf,
} from "../store-options.js";
import type { ResolvedPostgresBackend } from "./backend-options.js";

/** Every store option resolved: the options every store keeps, and the schema. */
export interface PostgresStoreSettings extends ResolvedStoreOptionsBase {
  readonly schema: string;
}

/** Validates and resolves; throws `InvalidOptionError` naming the bad option. */
export function postgresStoreSettings(
  backend: ResolvedPostgresBackend,
  options: ResolvedOptions,
): PostgresStoreSettings {
  const resolved = resolveStoreOptionsBase(storeOptionsOf(backend, options));
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
