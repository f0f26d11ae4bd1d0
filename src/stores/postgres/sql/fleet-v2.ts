/**
 * Migration 2 (fleet operations): the queues paused for every process, the worker registry and
 * the shared cron schedules. The claim leaves paused queues out in the same statement that
 * leases (`calls.ts`, `runStep`), so a step that starts after a pause committed takes nothing
 * from the queue.
 */
import type { SchemaNames } from "./names.js";

export function fleetV2({ s }: SchemaNames): string {
  return `
CREATE TABLE ${s}.paused (queue text PRIMARY KEY, since_ms bigint NOT NULL);
-- One row per live manager with handlers; heartbeat_ms is the store's time (now_ms()).
CREATE TABLE ${s}.workers (id text PRIMARY KEY, report text NOT NULL, heartbeat_ms bigint NOT NULL);
CREATE INDEX workers_heartbeat ON ${s}.workers (heartbeat_ms);
CREATE TABLE ${s}.schedules (id text PRIMARY KEY, spec text NOT NULL,
  paused boolean NOT NULL DEFAULT false);
`;
}
