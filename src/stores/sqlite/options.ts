/**
 * Options of the SQLite store: the options every store keeps (`../store-options.ts`), its file
 * and how often it looks for other processes' writes. The rest of the store only sees
 * {@link ResolvedSqliteOptions}.
 */
import { InvalidOptionError } from "../../errors.js";
import type { ResolvedOptions } from "../../options.js";
import { requireInteger } from "../../validation.js";
import {
  type ResolvedStoreOptionsBase,
  resolveStoreOptionsBase,
  type StoreOptions,
  storeOptionsOf,
} from "../store-options.js";
import type { ResolvedSqliteBackend } from "./backend-options.js";

/** Options of `new SqliteStore(db, options)`; the durable `backend` option maps onto them. */
export interface SqliteStoreOptions extends StoreOptions {
  /** Shown in errors. */
  readonly path?: string;
  /** How often a waiting process looks for other processes' writes (ms). @default 20 */
  readonly pollMs?: number;
}

/** Every store option resolved and validated. */
export interface ResolvedSqliteOptions extends ResolvedStoreOptionsBase {
  readonly path: string;
  readonly pollMs: number;
}

const DEFAULT_POLL_MS = 20;

/** Validates and fills in defaults; throws `InvalidOptionError` naming the bad option. */
export function resolveSqliteOptions(options: SqliteStoreOptions = {}): ResolvedSqliteOptions {
  const pollMs = options.pollMs ?? DEFAULT_POLL_MS;
  requireInteger("backend.pollMs", pollMs, 1, InvalidOptionError);
  return { path: options.path ?? "(sqlite)", ...resolveStoreOptionsBase(options), pollMs };
}

/** The store's options from the manager's: `backend` plus the manager's retention. */
export function sqliteStoreOptions(
  backend: ResolvedSqliteBackend,
  options: ResolvedOptions,
): SqliteStoreOptions {
  return { path: backend.path, ...storeOptionsOf(backend, options) };
}

/** Checks the backend's limits at once, in the manager's constructor, before the file opens. */
export function checkSqliteBackend(backend: ResolvedSqliteBackend, options: ResolvedOptions): void {
  resolveSqliteOptions(sqliteStoreOptions(backend, options));
}
