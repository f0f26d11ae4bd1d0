/**
 * `mill.audit`: the manager's audit trail over its store (memory, Redis, Postgres, SQLite).
 * The admin API records every write through it; `list` pages the records, `verify` recomputes
 * the whole chain. The `onAdmin` hook gets each record once the store holds it.
 */
import { InvalidArgumentError } from "../errors.js";
import { type Logger, safeLog } from "../observability/logger.js";
import { requireKnownKeys, resolvePageLimit } from "../validation.js";
import type { AuditEntry, AuditLink, AuditRecord, AuditStore, AuditStorePage } from "./types.js";
import { type AuditVerification, verifyAuditChain } from "./verify.js";

/** Options of `mill.audit.list()`: newest first by default. */
export interface AuditListOptions {
  /** Records older than this sequence number, newest first (the `next` of a previous page). */
  readonly before?: number;
  /** Records newer than this sequence number, oldest first. */
  readonly after?: number;
  /** 1 to 10,000. @default 100 */
  readonly limit?: number;
}

/** One page of the audit trail. */
export interface AuditPage {
  readonly records: readonly AuditRecord[];
  /** Pass as `before` (or `after`, paging forwards) for the next page; absent on the last page. */
  readonly next?: number;
  /** The link before the oldest record kept (the bound drops the oldest records). */
  readonly anchor: AuditLink;
  /** The newest record's link. */
  readonly head: AuditLink;
}

/** The audit trail of a manager. */
export interface AuditLog {
  /**
   * Appends one record (the admin API does this for every write). Only the fields of
   * {@link AuditEntry} are kept: never pass payloads, they are dropped anyway.
   */
  record(entry: AuditEntry): Promise<AuditRecord>;
  /** A page of records. @throws InvalidArgumentError for a bad option. */
  list(options?: AuditListOptions): Promise<AuditPage>;
  /** Reads every record kept and recomputes the chain from the anchor to the head. */
  verify(): Promise<AuditVerification>;
}

const LIST_KEYS: ReadonlySet<string> = new Set(["before", "after", "limit"]);
const VERIFY_PAGE = 1_000;

/** Creates `mill.audit` over `store`. */
export function createAuditLog(
  store: AuditStore,
  settings: {
    readonly maxRecords: number;
    readonly onAdmin: ((record: AuditRecord) => unknown) | undefined;
    readonly logger: Logger;
  },
): AuditLog {
  const ship = (record: AuditRecord): void => {
    const hook = settings.onAdmin;
    if (hook === undefined) return;
    const report = (error: unknown) =>
      safeLog(settings.logger, "error", { err: error, hook: "onAdmin" }, "taskmill hook threw");
    try {
      const returned = hook(record);
      if (returned instanceof Promise) returned.catch(report);
    } catch (error) {
      report(error);
    }
  };
  return {
    async record(entry) {
      const record = await store.appendAudit(entry, settings.maxRecords);
      ship(record);
      return record;
    },
    async list(options = {}) {
      if (typeof options !== "object" || options === null)
        throw new InvalidArgumentError("options", "must be an object", options);
      requireKnownKeys("", options, LIST_KEYS, InvalidArgumentError);
      const limit = resolvePageLimit(options.limit);
      for (const key of ["before", "after"] as const) {
        const value = options[key];
        if (value !== undefined && (!Number.isSafeInteger(value) || value < 0))
          throw new InvalidArgumentError(key, "must be an integer >= 0", value);
      }
      if (options.before !== undefined && options.after !== undefined)
        throw new InvalidArgumentError("before", "must not be combined with after", options.before);
      const page = await store.listAudit(
        options.after !== undefined
          ? { after: options.after, limit }
          : { before: options.before ?? Number.MAX_SAFE_INTEGER, limit },
      );
      return toPage(page);
    },
    async verify() {
      const records: AuditRecord[] = [];
      let first: AuditStorePage | undefined;
      let after = 0;
      for (;;) {
        const page = await store.listAudit({ after, limit: VERIFY_PAGE });
        first ??= page;
        records.push(...page.records);
        // A cursor that does not move on would loop: tampered data cannot hold verify forever.
        if (page.next === undefined || page.next <= after) break;
        after = page.next;
      }
      const ends = first as AuditStorePage;
      return verifyAuditChain(records, ends.anchor, ends.head);
    },
  };
}

function toPage(page: AuditStorePage): AuditPage {
  return page.next === undefined
    ? { records: page.records, anchor: page.anchor, head: page.head }
    : { records: page.records, next: page.next, anchor: page.anchor, head: page.head };
}
