/**
 * What of a task the admin API shows. Payloads and error stacks may hold personal data, card
 * numbers or secrets, so they leave the process only when the operator opted in
 * (`exposePayloads: true`), and then through the `redact` hook.
 */
import type { TaskManager } from "../task-manager.js";
import type { ErrorInfo, TaskSnapshot } from "../types.js";

/** Turns a payload into what operators may see; see `AdminHandlerOptions.redact`. */
export type RedactPayload = (payload: unknown, task: TaskSnapshot) => unknown;

/** @internal The resolved opt-in. */
export interface Exposure {
  readonly payloads: boolean;
  readonly redact: RedactPayload | undefined;
}

/** Neither payloads nor stacks: what write routes answer with. */
export const HIDDEN: Exposure = Object.freeze({ payloads: false, redact: undefined });

/** `task` as the admin API answers it: without payload and stack unless exposed. */
export function exposed(task: TaskSnapshot, exposure: Exposure): TaskSnapshot {
  const { payload, error, ...rest } = task;
  if (!exposure.payloads)
    return error === undefined ? rest : { ...rest, error: withoutStack(error) };
  const shown =
    payload === undefined || exposure.redact === undefined
      ? payload
      : exposure.redact(payload, rest);
  return {
    ...rest,
    ...(error === undefined ? {} : { error }),
    ...(shown === undefined ? {} : { payload: shown }),
  };
}

/**
 * A page of tasks (lists carry no payloads) as the admin API answers it. With the opt-in each
 * task is read again with `get()`, which does carry them: the dead-letter list is where an
 * operator inspects what failed before replaying it.
 */
export async function exposedPage(
  mill: TaskManager,
  tasks: readonly TaskSnapshot[],
  exposure: Exposure,
): Promise<TaskSnapshot[]> {
  if (!exposure.payloads) return tasks.map((task) => exposed(task, exposure));
  const details = await Promise.all(tasks.map((task) => mill.get(task.id)));
  return tasks.map((task, i) => exposed(details[i] ?? task, exposure));
}

function withoutStack(error: ErrorInfo): ErrorInfo {
  const { stack: _stack, ...rest } = error;
  return rest;
}
