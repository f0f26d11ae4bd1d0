/**
 * Schema version 4 of the SQLite store: flows. A node's task row gains `deps` (its
 * dependencies' outcomes, JSON by ref, handed to the claim as `ctx.dependencies`); `flows`
 * holds each flow, `flow_nodes` each node's dependency count, dependents and policy, and its
 * outcome once it ended (`flow.result()`), so neither needs a task row retention may evict.
 * An ended flow's rows are deleted `ttl_ms` (the store's `retention.ttlMs`) after it ended.
 */
export const FLOWS_SCHEMA = `
ALTER TABLE tasks ADD COLUMN deps TEXT;
CREATE TABLE flows (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  remaining INTEGER NOT NULL,
  nodes TEXT NOT NULL,
  ttl_ms INTEGER NOT NULL DEFAULT 0,
  finished_at INTEGER
) WITHOUT ROWID;
CREATE INDEX flows_finished ON flows (finished_at) WHERE finished_at IS NOT NULL;
CREATE TABLE flow_nodes (
  task_id TEXT PRIMARY KEY,
  flow_id TEXT NOT NULL,
  ref TEXT NOT NULL,
  pend INTEGER NOT NULL,
  policy TEXT NOT NULL,
  dependents TEXT NOT NULL,
  outcome TEXT
) WITHOUT ROWID;
CREATE INDEX flow_nodes_flow ON flow_nodes (flow_id);
`;
