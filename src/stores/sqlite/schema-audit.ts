/** Schema version 3 of the SQLite store: the admin audit trail (see `audit.ts`). */
import { GENESIS_HASH } from "../../audit/types.js";

/** Schema version 3: the audit trail. */
export const AUDIT_SCHEMA = `
CREATE TABLE IF NOT EXISTS audit (seq INTEGER PRIMARY KEY, record TEXT NOT NULL);
INSERT OR IGNORE INTO meta (key, value) VALUES ('audit_seq', 0), ('audit_head', '${GENESIS_HASH}'),
  ('audit_anchor_seq', 0), ('audit_anchor', '${GENESIS_HASH}');
`;
