/**
 * The chain verifier on its own (pure): each kind of tampering at each end of a bounded chain
 * is named with the right record, and an intact chain passes from its anchor.
 */
import {
  type AuditEntry,
  type AuditLink,
  type AuditRecord,
  GENESIS_HASH,
  verifyAuditChain,
} from "taskmill";
import { describe, expect, it } from "vitest";
import { decodeAuditRecord, sealAuditRecord } from "../../src/audit/chain.js";

const entry: AuditEntry = {
  method: "POST",
  route: "/v1/queues/:name/pause",
  targets: ["email"],
  dryRun: false,
  outcome: "applied",
  status: 200,
  requestId: "r",
};

/** Records `from`..`to` of one chain, and the anchor before `from` and the head. */
function chain(
  from: number,
  to: number,
): { records: AuditRecord[]; anchor: AuditLink; head: AuditLink } {
  const all: AuditRecord[] = [];
  let link: AuditLink = { seq: 0, hash: GENESIS_HASH };
  for (let seq = 1; seq <= to; seq++) {
    const record = sealAuditRecord({ ...entry, requestId: `r${seq}` }, link, 1_000 + seq);
    all.push(record);
    link = { seq: record.seq, hash: record.hash };
  }
  const before = all[from - 2];
  return {
    records: all.slice(from - 1),
    anchor:
      before === undefined
        ? { seq: 0, hash: GENESIS_HASH }
        : { seq: before.seq, hash: before.hash },
    head: link,
  };
}

describe("verifyAuditChain", () => {
  it("passes an intact chain, from the genesis or from an anchor", () => {
    for (const from of [1, 4]) {
      const { records, anchor, head } = chain(from, 6);
      expect(verifyAuditChain(records, anchor, head)).toMatchObject({
        ok: true,
        records: 7 - from,
      });
    }
    expect(
      verifyAuditChain([], { seq: 0, hash: GENESIS_HASH }, { seq: 0, hash: GENESIS_HASH }).ok,
    ).toBe(true);
  });

  it("names the removed newest record (against the head) and the removed oldest (against the anchor)", () => {
    const { records, anchor, head } = chain(3, 6);
    expect(verifyAuditChain(records.slice(0, -1), anchor, head)).toMatchObject({
      ok: false,
      problem: "removed",
      seq: 6,
    });
    expect(verifyAuditChain(records.slice(1), anchor, head)).toMatchObject({
      ok: false,
      problem: "removed",
      seq: 3,
    });
    expect(verifyAuditChain([], anchor, head)).toMatchObject({
      ok: false,
      problem: "removed",
      seq: 3,
    });
  });

  it("names a record altered into unreadable text, and one whose seq was changed", () => {
    const { records, anchor, head } = chain(1, 4);
    const unreadable = [...records];
    unreadable[1] = decodeAuditRecord("{not json", 2);
    expect(verifyAuditChain(unreadable, anchor, head)).toMatchObject({
      problem: "altered",
      seq: 2,
    });
    const renumbered = [...records];
    renumbered[2] = { ...(records[2] as AuditRecord), seq: 9 };
    expect(verifyAuditChain(renumbered, anchor, head)).toMatchObject({
      problem: "altered",
      seq: 9,
    });
  });

  it("names a changed anchor (the oldest kept record no longer chains to it)", () => {
    const { records, head } = chain(3, 5);
    expect(verifyAuditChain(records, { seq: 2, hash: "f".repeat(64) }, head)).toMatchObject({
      problem: "altered",
      seq: 3,
    });
  });
});
