/**
 * Sharded stores on a real redis-server (one per test file, via `useRedis`), each on a fresh
 * prefix, and a recorder of every script call's KEYS (EVALSHA/EVAL) sent on a client.
 */
import { randomUUID } from "node:crypto";
import type { Redis } from "ioredis";
import {
  ShardedRedisStore,
  type ShardedRedisStoreOptions,
} from "../../../../src/stores/redis/sharded/sharded-store.js";
import type { RedisFixture } from "../fixture.js";

/** A sharded store on a fresh prefix over a new client. */
export function shardedStore(
  redis: RedisFixture,
  options: ShardedRedisStoreOptions = {},
  client: Redis = redis.client(),
): ShardedRedisStore {
  return new ShardedRedisStore(client, { prefix: `sh-${randomUUID().slice(0, 8)}`, ...options });
}

/** The KEYS of every script call sent on `client` from now on. */
export function recordScriptKeys(client: Redis): string[][] {
  const calls: string[][] = [];
  const send = client.sendCommand.bind(client);
  client.sendCommand = ((command: { name: string; args: unknown[] }, ...rest: unknown[]) => {
    const name = command.name.toLowerCase();
    if (name === "evalsha" || name === "eval") {
      const count = Number(command.args[1]);
      calls.push(command.args.slice(2, 2 + count).map(String));
    }
    return (send as (...args: unknown[]) => unknown)(command, ...rest);
  }) as Redis["sendCommand"];
  return calls;
}
