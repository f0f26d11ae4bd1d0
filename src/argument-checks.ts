/**
 * The checks `TaskManager` runs on the options arguments of its calls, in every mode, before
 * anything reaches a store: an options argument is absent or an object, and names only keys the
 * call knows (a misspelt `maxRetry` or `dryrun` would otherwise be ignored without a word).
 */
import type { DeadLetterOperations } from "./engine/backend.js";
import { InvalidArgumentError, InvalidOptionError } from "./errors.js";
import { checkListOrder } from "./list-order.js";
import { isValidQueueName } from "./options.js";
import { checkReplayOptions, type DeadLetterListOptions } from "./registry/dead-letters.js";
import type { SubscribeOptions } from "./results/subscription.js";
import type { HandlerOptions, ListOptions } from "./types.js";
import { requireKnownKeys } from "./validation.js";

const HANDLER_KEYS: ReadonlySet<string> = new Set(["retry", "timeoutMs", "queue"] satisfies Array<
  keyof HandlerOptions
>);
const LIST_KEYS: ReadonlySet<string> = new Set([
  "status",
  "queue",
  "name",
  "limit",
  "cursor",
  "order",
] satisfies Array<keyof ListOptions>);
const DLQ_LIST_KEYS: ReadonlySet<string> = new Set([
  "name",
  "limit",
  "cursor",
  "order",
] satisfies Array<keyof DeadLetterListOptions>);
const SUBSCRIBE_KEYS: ReadonlySet<string> = new Set([
  "buffer",
  "overflow",
  "filter",
  "signal",
  "after",
] satisfies Array<keyof SubscribeOptions>);
/** An options argument: absent, or an object. */
export function isOptionsObject(options: unknown): options is object | undefined {
  return options === undefined || (typeof options === "object" && options !== null);
}

/** Checks an options argument of a call: absent or an object with only `known` keys. */
function checkOptionsArgument(options: unknown, known: ReadonlySet<string>): void {
  if (!isOptionsObject(options))
    throw new InvalidArgumentError("options", "must be an object", options);
  if (options !== undefined) requireKnownKeys("options", options, known);
}

/** `register(name, handler, options)`; returns the handler's queue. */
export function checkRegistration(name: unknown, handler: unknown, options: unknown): string {
  if (typeof name !== "string" || name.length === 0)
    throw new InvalidArgumentError("name", "must be a non-empty string", name);
  if (typeof handler !== "function")
    throw new InvalidArgumentError("handler", "must be a function", handler);
  if (!isOptionsObject(options))
    throw new InvalidArgumentError("options", "must be an object", options);
  if (options === undefined) return DEFAULT_QUEUE;
  requireKnownKeys(`register("${name}")`, options, HANDLER_KEYS, InvalidOptionError);
  const queue = (options as HandlerOptions).queue ?? DEFAULT_QUEUE;
  if (!isValidQueueName(queue))
    throw new InvalidOptionError(`register("${name}").queue`, "must be a non-empty string", queue);
  return queue;
}

/** The queue of tasks whose handler (or submit) names none. */
export const DEFAULT_QUEUE = "default";

/** `list(options)`. */
export function checkListOptions(options: unknown): void {
  checkOptionsArgument(options, LIST_KEYS);
  checkListOrder((options as ListOptions | undefined)?.order);
}

/** `dlq.list(options)`. */
export function checkDeadLetterListOptions(options: unknown): void {
  checkOptionsArgument(options, DLQ_LIST_KEYS);
  checkListOrder((options as DeadLetterListOptions | undefined)?.order);
}

/** `subscribeResults(options)`: also its `signal`. */
export function checkSubscribeOptions(options: unknown): void {
  checkOptionsArgument(options, SUBSCRIBE_KEYS);
  const signal = (options as SubscribeOptions | undefined)?.signal;
  if (signal !== undefined && !(signal instanceof AbortSignal))
    throw new InvalidArgumentError("signal", "must be an AbortSignal", signal);
}

/** `dlq` with the argument checks every store shares (options keys, a strict `dryRun`). */
export function checkedDeadLetters(dlq: DeadLetterOperations): DeadLetterOperations {
  return {
    list: (options) => {
      try {
        checkDeadLetterListOptions(options);
      } catch (error) {
        return Promise.reject(error);
      }
      return dlq.list(options);
    },
    replay: (selector, options) => {
      try {
        return dlq.replay(selector, checkReplayOptions(options));
      } catch (error) {
        return Promise.reject(error);
      }
    },
    purge: (selector) => dlq.purge(selector),
  };
}
