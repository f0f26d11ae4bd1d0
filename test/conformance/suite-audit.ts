/**
 * The admin audit trail through `mill.audit`: sealing, the hash chain, paging, the bound with
 * its anchor, concurrent appenders, and the `onAdmin` hook. The same in every store.
 */
import { createHash } from "node:crypto";
import { type AuditEntry, type AuditRecord, canonicalAuditEncoding, GENESIS_HASH } from "taskmill";
import { describe, expect, it } from "vitest";
import type { SuiteContext } from "./support.js";

function entry(n: number, extra: Partial<AuditEntry> = {}): AuditEntry {
  return {
    actor: { name: `ops-${n}`, role: "write" },
    method: "POST",
    route: "/v1/tasks/:id/cancel",
    targets: [`task-${n}`],
    dryRun: false,
    outcome: "applied",
    status: 200,
    requestId: `req-${n}`,
    client: "127.0.0.1",
    ...extra,
  };
}

export function auditSuite(ctx: SuiteContext): void {
  describe("audit trail", () => {
    it("seals records into a chain: seq 1, 2, 3, each carrying the hash of the one before", async () => {
      const mill = ctx.manager();
      const before = Date.now();
      const first = await mill.audit.record(entry(1));
      const second = await mill.audit.record(
        entry(2, { dryRun: true, outcome: "dry-run", filter: { name: "email" }, targets: [] }),
      );
      const third = await mill.audit.record(
        entry(3, { actor: undefined, outcome: "refused", status: 401, error: "UNAUTHORIZED" }),
      );
      expect([first.seq, second.seq, third.seq]).toEqual([1, 2, 3]);
      expect(first.prev).toBe(GENESIS_HASH);
      expect(second.prev).toBe(first.hash);
      expect(third.prev).toBe(second.hash);
      expect(first.at).toBeGreaterThanOrEqual(before - 5_000);
      expect(first.at).toBeLessThanOrEqual(Date.now() + 5_000);
      for (const record of [first, second, third])
        expect(record.hash).toBe(
          createHash("sha256")
            .update(canonicalAuditEncoding({ ...record }))
            .digest("hex"),
        );
      expect(second).not.toHaveProperty("targets");
      expect(second.filter).toEqual({ name: "email" });
      expect(third).not.toHaveProperty("actor");

      const page = await mill.audit.list();
      expect(page.records.map((record) => record.seq)).toEqual([3, 2, 1]);
      expect(page.records[2]).toEqual(first);
      expect(page.head).toEqual({ seq: 3, hash: third.hash });
      expect(page.anchor).toEqual({ seq: 0, hash: GENESIS_HASH });
      expect(page.next).toBeUndefined();
      expect(await mill.audit.verify()).toMatchObject({ ok: true, records: 3 });
    });

    it("keeps only the known fields: nothing else a caller passes (a payload) is stored", async () => {
      const mill = ctx.manager();
      const sneaky = { ...entry(1), payload: { card: "4111" } } as AuditEntry;
      const record = await mill.audit.record(sneaky);
      expect(JSON.stringify(record)).not.toContain("4111");
      const [stored] = (await mill.audit.list()).records as AuditRecord[];
      expect(JSON.stringify(stored)).not.toContain("4111");
    });

    it("pages newest first with before/next, and oldest first with after", async () => {
      const mill = ctx.manager();
      for (let n = 1; n <= 5; n++) await mill.audit.record(entry(n));
      const one = await mill.audit.list({ limit: 2 });
      expect(one.records.map((r) => r.seq)).toEqual([5, 4]);
      const two = await mill.audit.list({ limit: 2, before: one.next as number });
      expect(two.records.map((r) => r.seq)).toEqual([3, 2]);
      const three = await mill.audit.list({ limit: 2, before: two.next as number });
      expect(three.records.map((r) => r.seq)).toEqual([1]);
      expect(three.next).toBeUndefined();
      const forward = await mill.audit.list({ after: 2, limit: 2 });
      expect(forward.records.map((r) => r.seq)).toEqual([3, 4]);
      await expect(mill.audit.list({ limit: 0 })).rejects.toThrow(/limit/);
      await expect(mill.audit.list({ before: 1, after: 1 })).rejects.toThrow(/after/);
    });

    it("is bounded: past audit.maxRecords the oldest go, the last one dropped stays as the anchor", async () => {
      const mill = ctx.manager({ audit: { maxRecords: 3 } });
      const records: AuditRecord[] = [];
      for (let n = 1; n <= 6; n++) records.push(await mill.audit.record(entry(n)));
      const page = await mill.audit.list();
      expect(page.records.map((r) => r.seq)).toEqual([6, 5, 4]);
      expect(page.anchor).toEqual({ seq: 3, hash: records[2]?.hash });
      expect(await mill.audit.verify()).toMatchObject({ ok: true, records: 3 });
    });

    it("concurrent appenders on one backend (two processes in durable stores) never fork the chain", async () => {
      const backend = ctx.fixture.backend();
      const a = ctx.manager({ backend });
      const b = ctx.manager({ backend });
      await Promise.all(
        Array.from({ length: 40 }, (_, n) => (n % 2 === 0 ? a : b).audit.record(entry(n))),
      );
      const hashes = new Set<string>();
      for (const mill of [a, b]) {
        const records = (await mill.audit.list({ after: 0, limit: 100 })).records;
        // Whether the two share one trail (durable) or each keeps its own (memory), every trail
        // is one unbroken chain 1..n.
        expect(records.map((r) => r.seq)).toEqual(records.map((_, i) => i + 1));
        for (const record of records) hashes.add(record.hash);
        expect(await mill.audit.verify()).toMatchObject({ ok: true });
      }
      expect(hashes.size).toBe(40);
    });

    it("ships every record to hooks.onAdmin once the store holds it; a throwing hook changes nothing", async () => {
      const shipped: AuditRecord[] = [];
      const mill = ctx.manager({
        hooks: {
          onAdmin: (record) => {
            shipped.push(record);
            if (record.seq === 2) throw new Error("the SIEM is down");
          },
        },
      });
      const first = await mill.audit.record(entry(1));
      const second = await mill.audit.record(entry(2));
      expect(shipped).toEqual([first, second]);
      expect((await mill.audit.list()).records).toEqual([second, first]);
    });
  });
}
