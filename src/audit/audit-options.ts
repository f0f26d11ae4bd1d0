/** The manager's `audit` option: its type and its resolution. */
import { InvalidOptionError } from "../errors.js";
import { requireInteger, requireKnownKeys } from "../validation.js";
import { DEFAULT_AUDIT_MAX_RECORDS } from "./types.js";

/** Options of the admin audit trail. */
export interface AuditOptions {
  /**
   * Records kept; past it the oldest are dropped (the last one dropped stays as the chain's
   * anchor, so the rest still verifies). @default 100_000
   */
  readonly maxRecords?: number;
}

/** The audit option resolved: what the audit log reads. */
export interface ResolvedAudit {
  readonly maxRecords: number;
}

const AUDIT_KEYS: ReadonlySet<string> = new Set(["maxRecords"] satisfies Array<keyof AuditOptions>);

export function resolveAudit(audit: AuditOptions | undefined): ResolvedAudit {
  if (audit === undefined) return { maxRecords: DEFAULT_AUDIT_MAX_RECORDS };
  if (typeof audit !== "object" || audit === null)
    throw new InvalidOptionError("audit", "must be an object", audit);
  requireKnownKeys("audit", audit, AUDIT_KEYS, InvalidOptionError);
  const maxRecords = audit.maxRecords ?? DEFAULT_AUDIT_MAX_RECORDS;
  requireInteger("audit.maxRecords", maxRecords, 1, InvalidOptionError);
  return { maxRecords };
}
