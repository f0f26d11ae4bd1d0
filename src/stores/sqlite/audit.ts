/**
 * The audit trail in SQLite: table `audit` (seq, record JSON) and four `meta` rows (the
 * chain's head and anchor), added by schema version 3. An append reads the head, seals the
 * record and writes it inside one group-commit transaction (`BEGIN IMMEDIATE`: one writer at
 * a time across every process on the file), so the chain never forks.
 */
import { decodeAuditRecord, sealAuditRecord } from "../../audit/chain.js";
import {
  type AuditEntry,
  type AuditLink,
  type AuditQuery,
  type AuditRecord,
  type AuditStorePage,
  GENESIS_HASH,
} from "../../audit/types.js";
import type { Sql, Tx } from "./committer.js";

function metaOf(sql: Sql, key: string): unknown {
  return sql.q("SELECT value FROM meta WHERE key = ?").pluck().get(key);
}

function setMeta(sql: Sql, key: string, value: string | number): void {
  sql.q("UPDATE meta SET value = ? WHERE key = ?").run(value, key);
}

/** Appends `entry` after the head; runs inside the committer's transaction. */
export function appendAudit(tx: Tx, entry: AuditEntry, maxRecords: number): AuditRecord {
  const { sql } = tx;
  const previous: AuditLink = {
    seq: Number(metaOf(sql, "audit_seq") ?? 0),
    hash: String(metaOf(sql, "audit_head") ?? GENESIS_HASH),
  };
  const record = sealAuditRecord(entry, previous, tx.now);
  sql.q("INSERT INTO audit (seq, record) VALUES (?, ?)").run(record.seq, JSON.stringify(record));
  setMeta(sql, "audit_seq", record.seq);
  setMeta(sql, "audit_head", record.hash);
  const count = Number(sql.q("SELECT count(*) FROM audit").pluck().get());
  if (count > maxRecords) {
    const last = sql
      .q("SELECT seq, record FROM audit ORDER BY seq LIMIT 1 OFFSET ?")
      .get(count - maxRecords - 1) as { seq: number; record: string };
    sql.q("DELETE FROM audit WHERE seq <= ?").run(last.seq);
    setMeta(sql, "audit_anchor_seq", last.seq);
    setMeta(sql, "audit_anchor", String(decodeAuditRecord(last.record, last.seq).hash ?? ""));
  }
  return record;
}

/** A page of records with the chain's ends, read in one statement set (WAL snapshot reads). */
export function listAudit(sql: Sql, query: AuditQuery): AuditStorePage {
  return sql.db.transaction(() => readPage(sql, query))();
}

function readPage(sql: Sql, query: AuditQuery): AuditStorePage {
  const { after, before, limit } = query;
  const rows = (
    before !== undefined
      ? sql
          .q("SELECT seq, record FROM audit WHERE seq < ? ORDER BY seq DESC LIMIT ?")
          .all(before, limit)
      : sql
          .q("SELECT seq, record FROM audit WHERE seq > ? ORDER BY seq LIMIT ?")
          .all(after ?? 0, limit)
  ) as Array<{ seq: number; record: string }>;
  const records = rows.map((row) => decodeAuditRecord(row.record, row.seq));
  const page: AuditStorePage = {
    records,
    anchor: {
      seq: Number(metaOf(sql, "audit_anchor_seq") ?? 0),
      hash: String(metaOf(sql, "audit_anchor") ?? GENESIS_HASH),
    },
    head: {
      seq: Number(metaOf(sql, "audit_seq") ?? 0),
      hash: String(metaOf(sql, "audit_head") ?? GENESIS_HASH),
    },
  };
  const last = rows[rows.length - 1];
  return rows.length === limit && last !== undefined ? { ...page, next: last.seq } : page;
}
