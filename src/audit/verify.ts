/**
 * Recomputes the chain and names the first record that was altered, removed or reordered.
 * Works on the records in the order the store keeps them, from the anchor (the link before the
 * oldest record kept) to the head (the newest record's link), so a bounded trail verifies too.
 */
import { auditHash } from "./chain.js";
import type { AuditLink, AuditRecord } from "./types.js";

/** What is wrong with the first bad record. */
export type AuditProblem = "altered" | "removed" | "reordered";

/** The result of a verification. */
export type AuditVerification =
  | {
      readonly ok: true;
      /** Records checked. */
      readonly records: number;
      readonly anchor: AuditLink;
      readonly head: AuditLink;
    }
  | {
      readonly ok: false;
      readonly records: number;
      readonly anchor: AuditLink;
      readonly head: AuditLink;
      /** The sequence number of the first bad record (for `removed`: the first one missing). */
      readonly seq: number;
      readonly problem: AuditProblem;
      /** A sentence for people, e.g. "record 7 was altered: its hash does not match its content". */
      readonly message: string;
    };

/** Checks `records` (as stored, oldest first) against the chain's two ends. */
export function verifyAuditChain(
  records: readonly AuditRecord[],
  anchor: AuditLink,
  head: AuditLink,
): AuditVerification {
  const base = { records: records.length, anchor, head };
  const fail = (seq: number, problem: AuditProblem, why: string): AuditVerification => ({
    ...base,
    ok: false,
    seq,
    problem,
    message: `record ${seq} was ${problem}: ${why}`,
  });
  const seen = new Set<number>();
  for (const record of records) if (Number.isSafeInteger(record.seq)) seen.add(record.seq);
  let expected = anchor.seq + 1;
  let prev = anchor.hash;
  for (const record of records) {
    const seq = record.seq;
    if (!Number.isSafeInteger(seq) || auditHash(record as never) !== record.hash)
      return fail(
        Number.isSafeInteger(seq) ? seq : expected,
        "altered",
        "its hash does not match its content",
      );
    if (seq !== expected) {
      // The expected record is further on (or this one belongs earlier): the order changed.
      if (seq < expected || seen.has(expected))
        return fail(seq, "reordered", `found where record ${expected} belongs`);
      return fail(
        expected,
        "removed",
        seq - expected === 1
          ? `record ${seq} follows record ${expected - 1}`
          : `records ${expected} to ${seq - 1} are missing`,
      );
    }
    if (record.prev !== prev)
      // A consistent record whose `prev` is not the hash before: the record before was
      // rewritten with a recomputed hash (or, at the oldest kept record, the anchor changed).
      return seq - 1 > anchor.seq
        ? fail(seq - 1, "altered", `it was rewritten: record ${seq} no longer chains to it`)
        : fail(seq, "altered", "it does not chain to the anchor");
    expected = seq + 1;
    prev = record.hash;
  }
  if (head.seq >= expected)
    return fail(
      expected,
      "removed",
      head.seq === expected
        ? "the newest record is missing"
        : `records ${expected} to ${head.seq} are missing`,
    );
  if (head.seq !== expected - 1 || head.hash !== prev)
    return fail(expected - 1, "altered", "the chain's head does not match it");
  return { ...base, ok: true };
}
