/**
 * Migration 3, the admin audit trail: the records (seq, JSON text, kept byte for byte so the
 * hash recomputes), one row with the chain's head and anchor, and `audit_append`, the
 * compare-and-append every append goes through (see `../audit.ts`).
 */
import type { SchemaNames } from "./names.js";

export function auditV3({ s }: SchemaNames): string {
  return `
CREATE TABLE ${s}.audit (seq bigint PRIMARY KEY, record text NOT NULL);
CREATE TABLE ${s}.audit_chain (
  id boolean PRIMARY KEY DEFAULT true CHECK (id),
  seq bigint NOT NULL,
  head text NOT NULL,
  anchor_seq bigint NOT NULL,
  anchor text NOT NULL
);
INSERT INTO ${s}.audit_chain (seq, head, anchor_seq, anchor)
  VALUES (0, repeat('0', 64), 0, repeat('0', 64));

-- Appends the record sealed after (p_prev_seq, p_prev_hash) iff that is still the head: the
-- chain row is locked FOR UPDATE, so concurrent appenders serialise and a loser gets false
-- (it re-seals after the new head). Then drops the oldest past p_max, keeping the last
-- dropped as the anchor.
CREATE FUNCTION ${s}.audit_append(p_prev_seq bigint, p_prev_hash text, p_seq bigint,
  p_hash text, p_record text, p_max bigint) RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
  v_chain ${s}.audit_chain%ROWTYPE;
  v_last record;
  v_anchor text;
BEGIN
  SELECT * INTO v_chain FROM ${s}.audit_chain FOR UPDATE;
  IF v_chain.seq <> p_prev_seq OR v_chain.head <> p_prev_hash THEN
    RETURN false;
  END IF;
  INSERT INTO ${s}.audit (seq, record) VALUES (p_seq, p_record);
  UPDATE ${s}.audit_chain SET seq = p_seq, head = p_hash;
  SELECT seq, record INTO v_last FROM ${s}.audit ORDER BY seq DESC OFFSET p_max LIMIT 1;
  IF FOUND THEN
    DELETE FROM ${s}.audit WHERE seq <= v_last.seq;
    BEGIN
      v_anchor := coalesce(v_last.record::jsonb ->> 'hash', '');
    EXCEPTION WHEN others THEN
      v_anchor := ''; -- altered into unreadable text: verify reports the break there
    END;
    UPDATE ${s}.audit_chain SET anchor_seq = v_last.seq, anchor = v_anchor;
  END IF;
  RETURN true;
END $$;
`;
}
