/**
 * Migration 2 (fleet operations): the queues paused for every process. The claim leaves them
 * out in the same statement that leases (`calls.ts`, `runStep`), so a step that starts after a
 * pause committed takes nothing from the queue.
 */
import type { SchemaNames } from "./names.js";

export function fleetV2({ s }: SchemaNames): string {
  return `
CREATE TABLE ${s}.paused (queue text PRIMARY KEY, since_ms bigint NOT NULL);
`;
}
