/**
 * The admin's stored lists in durable mode, passed straight to the store within the calls'
 * deadline: the dead-letter queue and the audit trail (sealed by the store's `appendAudit`).
 */
import type {
  AuditEntry,
  AuditQuery,
  AuditRecord,
  AuditStore,
  AuditStorePage,
} from "../../audit/types.js";
import type {
  DeadLetterListOptions,
  DeadLetterOutcome,
  DeadLetterPage,
  DeadLetterSelector,
  ReplayOptions,
} from "../../registry/dead-letters.js";
import type { DeadLetterOperations } from "../backend.js";
import type { StoreCalls } from "./store-calls.js";
import type { TaskViews } from "./task-views.js";

/** `mill.audit`'s store: appends and pages through the store's trail. */
export function storedAudit(calls: StoreCalls): AuditStore {
  return {
    appendAudit: (entry: AuditEntry, maxRecords: number): Promise<AuditRecord> =>
      calls.read("audit.append", (store) => store.appendAudit(entry, maxRecords)),
    listAudit: (query: AuditQuery): Promise<AuditStorePage> =>
      calls.read("audit.list", (store) => store.listAudit(query)),
  };
}

/** `mill.dlq`: the store's dead-letter queue, listed as task snapshots. */
export function storedDeadLetters(calls: StoreCalls, views: TaskViews): DeadLetterOperations {
  return {
    list: async (options?: DeadLetterListOptions): Promise<DeadLetterPage> =>
      views.page(await calls.read("dlq.list", (store) => store.dlq.list(options))),
    replay: async (
      selector: DeadLetterSelector,
      options?: ReplayOptions,
    ): Promise<DeadLetterOutcome> =>
      calls.read("dlq.replay", (store) => store.dlq.replay(selector, options)),
    purge: (selector?: DeadLetterSelector): Promise<DeadLetterOutcome> =>
      calls.read("dlq.purge", (store) => store.dlq.purge(selector)),
  };
}
