/**
 * The one client type the Redis backend runs on: a single node (`Redis`) or a Redis Cluster
 * (`Cluster`, which follows MOVED/ASK itself). Every key of a store carries one hash tag, so
 * on a cluster all of them live in one slot and every script, MULTI and pipeline stays
 * single-slot; only commands without keys (TIME, CLIENT ID/UNBLOCK) need routing by hand, to
 * the node that serves the store's slot ({@link nodeServing}).
 *
 * Types only on the hot path: `RedisClient` is an alias, and nothing here runs per call on a
 * single node.
 */
import type { Cluster, Redis } from "ioredis";

/** An ioredis client: one node or a cluster. */
export type RedisClient = Redis | Cluster;

/** Whether the client is an ioredis `Cluster` (ioredis sets `isCluster` on both kinds). */
export function isCluster(client: RedisClient): client is Cluster {
  return client.isCluster === true;
}

/**
 * The single-node connection that carries commands for `key`'s slot: the client itself on a
 * single node; on a cluster, the connection to the master that serves the slot (the same one
 * the cluster sends `key`'s commands on), or `undefined` while the cluster does not know the
 * slot's master yet (not connected, or its slot map is being refreshed).
 */
export function nodeServing(client: RedisClient, key: string): Redis | undefined {
  if (!isCluster(client)) return client;
  const master = client.slots[keySlot(key)]?.[0];
  if (master === undefined) return undefined;
  return client
    .nodes("master")
    .find((node) => `${node.options.host}:${node.options.port}` === master);
}

/** The client's ioredis `keyPrefix`, if any (a cluster may set it for itself or its nodes). */
export function keyPrefixOf(client: RedisClient): string | undefined {
  if (!isCluster(client)) return client.options.keyPrefix;
  return client.options.keyPrefix || client.options.redisOptions?.keyPrefix;
}

/** The cluster slot of a key (CRC16/XMODEM of its hash tag, mod 16384), as Redis computes it. */
export function keySlot(key: string): number {
  const bytes = Buffer.from(key, "utf8");
  let start = 0;
  let end = bytes.length;
  const open = bytes.indexOf(0x7b); // "{"
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1); // "}"
    // An empty tag ("{}") hashes the whole key, as Redis does.
    if (close > open + 1) {
      start = open + 1;
      end = close;
    }
  }
  let crc = 0;
  for (let i = start; i < end; i++) {
    crc ^= (bytes[i] as number) << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}
