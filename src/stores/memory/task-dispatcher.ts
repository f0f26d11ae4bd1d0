/**
 * The scheduling layer's dispatcher bound to task records: when a delayed task becomes due, its
 * status moves through `transitions.ts` (`scheduled` to `queued`). Scheduling itself knows no
 * statuses, so this is where the two layers meet.
 */

import type { TaskRecord } from "../../lifecycle/task-record.js";
import { transition } from "../../lifecycle/transitions.js";
import { Dispatcher, type DispatcherDeps } from "../../scheduling/dispatcher.js";

/** Everything a dispatcher needs but the lifecycle step, which this class supplies. */
export type TaskDispatcherDeps = Omit<DispatcherDeps<TaskRecord>, "onDue">;

/** The one dispatcher of the memory engine, over task records. */
export class TaskDispatcher extends Dispatcher<TaskRecord> {
  constructor(deps: TaskDispatcherDeps) {
    super({ ...deps, onDue: markDue });
  }
}

/** A due delayed task is queued; a due retry stays `retrying` until it starts. */
function markDue(record: TaskRecord, now: number): void {
  if (record.status === "scheduled") transition(record, "queued", now);
}
