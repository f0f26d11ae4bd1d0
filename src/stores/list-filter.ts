/**
 * The filters of `list` and `dlq.list`, checked alike by every durable store before it reads
 * anything: a bad status, queue, name or limit is an `InvalidArgumentError` naming it.
 * Which indexes a store then walks for the asked statuses is the store's own business.
 */
import { InvalidArgumentError } from "../errors.js";
import { TaskStatus } from "../lifecycle/states.js";
import type { ListOptions } from "../types.js";
import { resolvePageLimit } from "../validation.js";

const ALL_STATUSES: readonly TaskStatus[] = Object.values(TaskStatus);

/** `list`'s filters, checked. */
export interface ListFilter {
  readonly limit: number;
  /** The statuses asked for (every status when none was given), in the order given. */
  readonly statuses: ReadonlySet<TaskStatus>;
  readonly queue: string | undefined;
  readonly name: string | undefined;
}

/** `dlq.list`'s filters, checked. */
export interface DeadLetterFilter {
  readonly limit: number;
  readonly name: string | undefined;
}

/** Checks `list`'s options. @throws InvalidArgumentError naming the bad filter. */
export function checkListFilter(options: ListOptions): ListFilter {
  const limit = resolvePageLimit(options.limit as number | undefined);
  const statuses = checkStatuses(options.status);
  const { queue, name } = options;
  if (queue !== undefined && (typeof queue !== "string" || queue.length === 0))
    throw new InvalidArgumentError("queue", "must be a non-empty string", queue);
  return { limit, statuses, queue, name: checkName(name) };
}

/** Checks `dlq.list`'s options. @throws InvalidArgumentError naming the bad filter. */
export function checkDeadLetterFilter(options: {
  readonly limit?: number;
  readonly name?: string;
}): DeadLetterFilter {
  return { limit: resolvePageLimit(options.limit), name: checkName(options.name) };
}

/** Whether a task read from an index passes `list`'s filters. */
export function matchesListFilter(
  filter: ListFilter,
  task: { readonly status: TaskStatus; readonly queue: string; readonly name: string },
): boolean {
  return (
    filter.statuses.has(task.status) &&
    (filter.queue === undefined || task.queue === filter.queue) &&
    (filter.name === undefined || task.name === filter.name)
  );
}

function checkName(name: unknown): string | undefined {
  if (name !== undefined && typeof name !== "string")
    throw new InvalidArgumentError("name", "must be a string", name);
  return name;
}

function checkStatuses(status: ListOptions["status"]): ReadonlySet<TaskStatus> {
  if (status === undefined) return new Set(ALL_STATUSES);
  const list: readonly unknown[] = Array.isArray(status) ? status : [status];
  for (const item of list)
    if (!ALL_STATUSES.includes(item as TaskStatus))
      throw new InvalidArgumentError("status", `must be one of ${ALL_STATUSES.join(", ")}`, item);
  return new Set(list as TaskStatus[]);
}
