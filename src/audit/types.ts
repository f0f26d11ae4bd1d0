/**
 * The audit trail's data: what one admin write records (who, what, when, from where, outcome;
 * never a payload), the sealed, hash-chained record a store keeps, and the pages a store reads.
 */

/** The caller of an admin write, as authentication resolved it (absent: unauthenticated). */
export interface AuditActor {
  /** The token's or principal's `name`, when it has one. */
  readonly name?: string;
  readonly role: "read" | "write";
}

/**
 * How an admin write ended: `applied` (2xx), `dry-run` (2xx of a `dryRun: true` request, which
 * changed nothing), `refused` (4xx: unauthenticated, forbidden, invalid, not found...) or
 * `failed` (5xx: the store or the server failed).
 */
export type AuditOutcome = "applied" | "dry-run" | "refused" | "failed";

/** What one admin write records, before the store seals it into the chain. */
export interface AuditEntry {
  /** `undefined`: the request carried no valid credentials. */
  readonly actor?: AuditActor;
  /** The HTTP method, e.g. `POST`. */
  readonly method: string;
  /** The route template, e.g. `/v1/tasks/:id/cancel` (never the raw path). */
  readonly route: string;
  /** Ids or names the write targets: task ids, a queue name, dead-letter ids. */
  readonly targets?: readonly string[];
  /** The selection of a write by filter rather than by ids, e.g. `{ name: "email.send" }`. */
  readonly filter?: Readonly<Record<string, string>>;
  /** Whether the request asked for a dry run. */
  readonly dryRun: boolean;
  readonly outcome: AuditOutcome;
  /** The HTTP status answered. */
  readonly status: number;
  /** The error code answered (`FORBIDDEN`, `NOT_FOUND`...), for a refused or failed write. */
  readonly error?: string;
  /** The request's id (its `x-request-id`). */
  readonly requestId: string;
  /** The client's address as the server saw it. */
  readonly client?: string;
}

/** A position in the chain: a record's sequence number and hash. */
export interface AuditLink {
  /** 0 before the first record. */
  readonly seq: number;
  /** sha256, hex; {@link GENESIS_HASH} before the first record. */
  readonly hash: string;
}

/** One sealed audit record, as the store keeps it. */
export interface AuditRecord extends AuditEntry {
  /** 1, 2, 3... per store, without gaps. */
  readonly seq: number;
  /** When the store recorded it (the store's clock, epoch ms). */
  readonly at: number;
  /** The hash of the record before (the chain). */
  readonly prev: string;
  /** sha256 over the canonical encoding of every other field. */
  readonly hash: string;
}

/** A page of records as a store reads it, with the chain's two ends. */
export interface AuditStorePage {
  readonly records: AuditRecord[];
  /**
   * The link just before the oldest record kept: `{ seq: 0, hash: GENESIS_HASH }` until the
   * bound first drops records, then the last record dropped.
   */
  readonly anchor: AuditLink;
  /** The newest record's link. */
  readonly head: AuditLink;
  /** Where the next page starts (pass as `after` or `before`), when there may be more. */
  readonly next?: number;
}

/** Which records a store reads: after `after` oldest first, or before `before` newest first. */
export interface AuditQuery {
  readonly after?: number;
  readonly before?: number;
  readonly limit: number;
}

/** The audit trail's storage: the memory store and every durable store implement it. */
export interface AuditStore {
  /**
   * Seals `entry` into the chain (next `seq`, the store's time, the newest record's hash as
   * `prev`) and appends it in one atomic step; then drops the oldest records past `maxRecords`,
   * keeping the last one dropped as the anchor.
   */
  appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord>;
  /** Records as stored (tampered ones included, unchanged), with the anchor and head. */
  listAudit(query: AuditQuery): Promise<AuditStorePage>;
}

/** The hash before the first record: 64 zeros. */
export const GENESIS_HASH = "0".repeat(64);

/** The link before the first record. */
export const GENESIS: AuditLink = Object.freeze({ seq: 0, hash: GENESIS_HASH });

/** Records kept when `audit.maxRecords` is not set. */
export const DEFAULT_AUDIT_MAX_RECORDS = 100_000;
