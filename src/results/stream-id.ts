/**
 * A durable result's `eventId`: its position in the Redis events stream, which
 * `subscribeResults({ after })` and the admin's `Last-Event-ID` resume after. The format lives
 * here, outside the Redis backend, so that callers can check an id without loading it.
 */

/** Events-stream positions as Redis writes them ("ms-seq"), or the "ms" shorthand. */
const STREAM_ID = /^\d{1,20}(-\d{1,20})?$/;

/** Whether `value` can be a position in the events stream. */
export function isStreamId(value: unknown): value is string {
  return typeof value === "string" && STREAM_ID.test(value);
}

/**
 * The sharded Redis layout's feed positions: `v2.` then base64url (every shard's stream
 * position, see `stores/redis/sharded/merged-feed.ts`, which checks the content).
 */
const SHARDED_POSITION = /^v2\.[A-Za-z0-9_-]{1,100000}$/;

/** Whether `value` can be a durable result's `eventId` in any Redis layout. */
export function isResultEventId(value: unknown): value is string {
  return isStreamId(value) || (typeof value === "string" && SHARDED_POSITION.test(value));
}
