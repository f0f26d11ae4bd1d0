/** The audit trail of memory mode: kept in the process, bounded, chained like every store's. */
import type { Clock } from "../scheduling/clock.js";
import { sealAuditRecord } from "./chain.js";
import {
  type AuditEntry,
  type AuditLink,
  type AuditQuery,
  type AuditRecord,
  type AuditStore,
  type AuditStorePage,
  GENESIS,
} from "./types.js";

/** An in-memory {@link AuditStore}; records are frozen copies, oldest first. */
export class MemoryAuditStore implements AuditStore {
  readonly #clock: Clock;
  #records: AuditRecord[] = [];
  #anchor: AuditLink = GENESIS;
  #head: AuditLink = GENESIS;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  async appendAudit(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    const record = Object.freeze(sealAuditRecord(entry, this.#head, this.#clock.now()));
    this.#records.push(record);
    this.#head = { seq: record.seq, hash: record.hash };
    const excess = this.#records.length - maxRecords;
    if (excess > 0) {
      const dropped = this.#records.splice(0, excess);
      const last = dropped[dropped.length - 1] as AuditRecord;
      this.#anchor = { seq: last.seq, hash: last.hash };
    }
    return record;
  }

  async listAudit(query: AuditQuery): Promise<AuditStorePage> {
    const { after, before, limit } = query;
    let records: AuditRecord[];
    if (before !== undefined)
      records = this.#records
        .filter((record) => record.seq < before)
        .slice(-limit)
        .reverse();
    else {
      const from = after ?? 0;
      records = this.#records.filter((record) => record.seq > from).slice(0, limit);
    }
    const last = records[records.length - 1];
    return records.length === limit && last !== undefined
      ? { records, anchor: this.#anchor, head: this.#head, next: last.seq }
      : { records, anchor: this.#anchor, head: this.#head };
  }
}
