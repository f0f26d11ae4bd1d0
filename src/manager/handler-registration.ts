/**
 * `register()` behind the facade: checks a handler's options, resolves them against the
 * manager's defaults and adds it to the handler table the backend runs from.
 */
import { checkRegistration } from "../argument-checks.js";
import type { Backend, RegisteredHandler } from "../engine/backend.js";
import { DuplicateHandlerError } from "../errors.js";
import { type ResolvedOptions, resolveRetry, resolveTimeout } from "../options.js";
import { type TaskDefinition, taskName } from "../task-definition.js";
import type { HandlerOptions, TaskHandler } from "../types.js";

/**
 * @throws DuplicateHandlerError if the name already has a handler.
 * @throws InvalidOptionError for a bad retry policy, timeout or queue.
 */
export function registerHandler(
  parts: {
    readonly options: ResolvedOptions;
    readonly handlers: Map<string, RegisteredHandler>;
    readonly backend: Backend;
  },
  task: string | TaskDefinition,
  handler: TaskHandler,
  options: HandlerOptions,
): void {
  const name = taskName(task) as string;
  const queue = checkRegistration(name, handler, options);
  if (parts.handlers.has(name)) throw new DuplicateHandlerError(name);
  parts.handlers.set(name, {
    handler: handler as TaskHandler,
    retry: resolveRetry(options.retry, parts.options.retry, `register("${name}").retry`),
    timeoutMs: resolveTimeout(
      options.timeoutMs,
      parts.options.timeoutMs,
      `register("${name}").timeoutMs`,
    ),
    queue,
  });
  parts.backend.handlersChanged();
}
