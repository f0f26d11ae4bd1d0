/**
 * The audit trail in Postgres (migration 3): an append reads the chain's head and the database
 * clock, seals the record (the one sealing function every store shares) and calls
 * `audit_append`, which locks the chain row and writes the record only if the head did not
 * move meanwhile; on a race it re-seals and tries again.
 */
import { decodeAuditRecord, sealAuditRecord } from "../../audit/chain.js";
import type {
  AuditEntry,
  AuditLink,
  AuditQuery,
  AuditRecord,
  AuditStorePage,
} from "../../audit/types.js";
import type { Query } from "./queries.js";
import type { SchemaNames } from "./sql/names.js";

/** Re-seals after a lost race at most this often (each loss means another append succeeded). */
const MAX_ATTEMPTS = 100;

export async function appendAudit(
  query: Query,
  { s }: SchemaNames,
  entry: AuditEntry,
  maxRecords: number,
): Promise<AuditRecord> {
  for (let attempt = 1; ; attempt++) {
    const { rows } = await query(`SELECT seq, head, ${s}.now_ms() AS now FROM ${s}.audit_chain`);
    const row = rows[0] as { seq: string; head: string; now: string };
    const previous: AuditLink = { seq: Number(row.seq), hash: row.head };
    const record = sealAuditRecord(entry, previous, Number(row.now));
    const reply = await query(`SELECT ${s}.audit_append($1, $2, $3, $4, $5, $6) AS ok`, [
      previous.seq,
      previous.hash,
      record.seq,
      record.hash,
      JSON.stringify(record),
      maxRecords,
    ]);
    if (reply.rows[0]?.ok === true) return record;
    if (attempt >= MAX_ATTEMPTS)
      throw new Error(`the audit chain's head kept moving; gave up after ${attempt} attempts`);
  }
}

export async function listAudit(
  query: Query,
  { s }: SchemaNames,
  { after, before, limit }: AuditQuery,
): Promise<AuditStorePage> {
  // One statement: the chain's ends and the page from the same snapshot.
  const { rows } = await query(
    before !== undefined
      ? `SELECT c.seq AS head_seq, c.head, c.anchor_seq, c.anchor, a.seq, a.record
           FROM ${s}.audit_chain c LEFT JOIN LATERAL (SELECT seq, record FROM ${s}.audit
             WHERE seq < $1 ORDER BY seq DESC LIMIT $2) a ON true ORDER BY a.seq DESC`
      : `SELECT c.seq AS head_seq, c.head, c.anchor_seq, c.anchor, a.seq, a.record
           FROM ${s}.audit_chain c LEFT JOIN LATERAL (SELECT seq, record FROM ${s}.audit
             WHERE seq > $1 ORDER BY seq LIMIT $2) a ON true ORDER BY a.seq`,
    [before ?? after ?? 0, limit],
  );
  const first = rows[0] as Record<string, string | null>;
  const records: AuditRecord[] = [];
  let last: number | undefined;
  for (const row of rows)
    if (row.seq !== null && row.seq !== undefined) {
      last = Number(row.seq);
      records.push(decodeAuditRecord(String(row.record), last));
    }
  const page: AuditStorePage = {
    records,
    anchor: { seq: Number(first.anchor_seq), hash: String(first.anchor) },
    head: { seq: Number(first.head_seq), hash: String(first.head) },
  };
  return records.length === limit && last !== undefined ? { ...page, next: last } : page;
}
