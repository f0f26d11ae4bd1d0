/**
 * The Redis storage layer of durable mode (future entry point `taskmill/redis`; ioredis is an
 * optional peer dependency, so nothing outside this folder may import it).
 *
 * @packageDocumentation
 */

export type {
  CancelResult,
  ClaimedTask,
  ClaimResult,
  EnqueueInput,
  EnqueueResult,
  JsonValue,
  QueueDepth,
  ReclaimResult,
  RetryAt,
  StoreCounts,
  StoredTask,
  TaskEvent,
  TrimResult,
} from "../durable-types.js";
export { toSnapshot, toTaskResult } from "../snapshots.js";
export { encodeJson } from "./codec.js";
export { RedisDeadLetters } from "./dead-letter.js";
export { UnexpectedReplyError } from "./errors.js";
export { type ReadEventsOptions, readEvents } from "./events.js";
export { DEFAULT_PREFIX, KeySpace } from "./keys.js";
export {
  type RedisStoreOptions,
  type ResolvedStoreOptions,
  resolveStoreOptions,
  STORE_DEFAULTS,
} from "./options.js";
export type { StoredTaskPage } from "./queries.js";
export { type ClaimOptions, type LeaseRef, RedisStore } from "./redis-store.js";
export { commandName, registerScripts } from "./scripts.js";
export { type WaitOutcome, WorkWaiter } from "./waiter.js";
