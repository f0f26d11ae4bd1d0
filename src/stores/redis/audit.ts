/**
 * The audit trail in Redis: a zset of sealed records (score = seq) and a hash with the chain's
 * head and anchor. An append reads the head and the server's time, seals the record (the one
 * sealing function every store shares) and runs `audit-append`, which writes it only if the
 * head did not move meanwhile; on a race it re-seals and tries again.
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
import type { RedisClient } from "./client.js";
import type { KeySpace } from "./keys.js";
import { runScript } from "./scripts.js";

/** Re-seals after a lost race at most this often (each loss means another append succeeded). */
const MAX_ATTEMPTS = 100;

/** Appends and reads audit records on one prefix. */
export class RedisAudit {
  readonly #redis: RedisClient;
  readonly #records: string;
  readonly #meta: string;

  constructor(redis: RedisClient, keys: KeySpace) {
    this.#redis = redis;
    this.#records = keys.audit;
    this.#meta = keys.auditMeta;
  }

  async append(entry: AuditEntry, maxRecords: number): Promise<AuditRecord> {
    for (let attempt = 1; ; attempt++) {
      const reply = await this.#redis.multi().hmget(this.#meta, "seq", "head").time().exec();
      const [seq, head] = (reply?.[0]?.[1] ?? []) as Array<string | null>;
      const [seconds, micros] = (reply?.[1]?.[1] ?? ["0", "0"]) as [string, string];
      const previous: AuditLink = { seq: Number(seq ?? 0), hash: head ?? GENESIS_HASH };
      const at = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
      const record = sealAuditRecord(entry, previous, at);
      const appended = await runScript(
        this.#redis,
        "auditAppend",
        [this.#records, this.#meta],
        [
          String(previous.seq),
          previous.hash,
          record.seq,
          record.hash,
          JSON.stringify(record),
          maxRecords,
        ],
      );
      if (appended === 1) return record;
      if (attempt >= MAX_ATTEMPTS)
        throw new Error(`the audit chain's head kept moving; gave up after ${attempt} attempts`);
    }
  }

  async list(query: AuditQuery): Promise<AuditStorePage> {
    const { after, before, limit } = query;
    const range =
      before !== undefined
        ? ["ZREVRANGEBYSCORE", this.#records, `(${before}`, "-inf"]
        : ["ZRANGEBYSCORE", this.#records, `(${after ?? 0}`, "+inf"];
    const reply = await this.#redis
      .multi()
      .hmget(this.#meta, "seq", "head", "anchorSeq", "anchor")
      .call(range[0] as string, ...range.slice(1), "WITHSCORES", "LIMIT", 0, limit)
      .exec();
    const [seq, head, anchorSeq, anchor] = (reply?.[0]?.[1] ?? []) as Array<string | null>;
    const flat = (reply?.[1]?.[1] ?? []) as string[];
    const records: AuditRecord[] = [];
    let last: number | undefined;
    for (let i = 0; i < flat.length; i += 2) {
      last = Number(flat[i + 1]);
      records.push(decodeAuditRecord(flat[i] as string, last));
    }
    const page: AuditStorePage = {
      records,
      anchor: { seq: Number(anchorSeq ?? 0), hash: anchor ?? GENESIS_HASH },
      head: { seq: Number(seq ?? 0), hash: head ?? GENESIS_HASH },
    };
    return records.length === limit && last !== undefined ? { ...page, next: last } : page;
  }
}
