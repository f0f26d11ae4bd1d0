/**
 * The hash chain: how a record is sealed and how its hash is computed. Every store seals with
 * this one function, so a record written by Redis, Postgres, SQLite or memory verifies the same.
 *
 * The hash is sha256 (hex) over a canonical encoding: the record without `hash`, as JSON with
 * keys sorted and absent fields left out. `prev` is part of what is hashed, which chains them.
 */
import { createHash } from "node:crypto";
import { configure } from "safe-stable-stringify";
import type { AuditEntry, AuditLink, AuditRecord } from "./types.js";

const canonical = configure({ deterministic: true, circularValue: Error, bigint: false });

/** The canonical encoding of a record (every field but `hash`). */
export function canonicalAuditEncoding(record: Readonly<Record<string, unknown>>): string {
  const { hash: _hash, ...rest } = record;
  return canonical(rest) ?? "";
}

/** The hash a record should carry. */
export function auditHash(record: Readonly<Record<string, unknown>>): string {
  return createHash("sha256").update(canonicalAuditEncoding(record), "utf8").digest("hex");
}

/**
 * Seals `entry` as the record after `previous`, recorded at `at`. Only the known fields are
 * copied, so nothing else a caller passes (a payload) can enter the trail.
 */
export function sealAuditRecord(entry: AuditEntry, previous: AuditLink, at: number): AuditRecord {
  const record: Record<string, unknown> = { seq: previous.seq + 1, at, prev: previous.hash };
  if (entry.actor !== undefined)
    record.actor =
      entry.actor.name === undefined
        ? { role: entry.actor.role }
        : { name: entry.actor.name, role: entry.actor.role };
  record.method = entry.method;
  record.route = entry.route;
  if (entry.targets !== undefined && entry.targets.length > 0) record.targets = [...entry.targets];
  if (entry.filter !== undefined && Object.keys(entry.filter).length > 0)
    record.filter = { ...entry.filter };
  record.dryRun = entry.dryRun;
  record.outcome = entry.outcome;
  record.status = entry.status;
  if (entry.error !== undefined) record.error = entry.error;
  record.requestId = entry.requestId;
  if (entry.client !== undefined) record.client = entry.client;
  record.hash = auditHash(record);
  return record as unknown as AuditRecord;
}

/** A stored record's text decoded; text that is not a JSON object stays visible as altered. */
export function decodeAuditRecord(text: string, seq: number): AuditRecord {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value === "object" && value !== null && !Array.isArray(value))
      return value as AuditRecord;
  } catch {
    // falls through: unreadable text is reported by verify as an altered record
  }
  return { seq, hash: "", prev: "", unreadable: text } as unknown as AuditRecord;
}
