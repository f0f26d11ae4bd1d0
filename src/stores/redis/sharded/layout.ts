/**
 * The key layout version, `{prefix}:layout` in the control shard: `1` for the single-tag layout
 * (every key under `{prefix}`; also what data without the key is), `2` for the sharded layout
 * (a shard per queue or partition). Written on first use; a process opening data of the other
 * layout is refused before it reads or writes a task, since each layout would miss the other's
 * tasks entirely.
 */

import { IncompatibleStoreError } from "../../../errors.js";
import type { RedisClient } from "../client.js";
import type { KeySpace } from "../keys.js";

/** The layouts by name and version. */
export type RedisLayout = "single" | "sharded";

const VERSION: Readonly<Record<RedisLayout, string>> = { single: "1", sharded: "2" };

/** The layout version key of a prefix. */
export function layoutKey(keys: KeySpace): string {
  return `${keys.base}layout`;
}

/**
 * Confirms that the data under `keys` is in `layout` (recording it when the prefix is new).
 * @throws IncompatibleStoreError naming both layouts and what to do.
 */
export async function confirmLayout(
  redis: RedisClient,
  keys: KeySpace,
  layout: RedisLayout,
  location: string,
): Promise<void> {
  const key = layoutKey(keys);
  let stored = await redis.get(key);
  if (stored === null) {
    // Single-tag data written before the key existed: any of its task keys says so.
    const legacy = await redis.exists(keys.seq, keys.queues, keys.fence);
    const mine = legacy > 0 ? VERSION.single : VERSION[layout];
    await redis.set(key, mine, "NX");
    stored = await redis.get(key);
  }
  if (stored === VERSION[layout]) return;
  const found: RedisLayout | undefined =
    stored === VERSION.single ? "single" : stored === VERSION.sharded ? "sharded" : undefined;
  const what =
    found === undefined ? `an unknown layout version "${stored}"` : `the "${found}" layout`;
  throw new IncompatibleStoreError(
    location,
    "other-layout",
    `the Redis data under the prefix "${keys.prefix}" is in ${what}, but this process opens it with backend.layout "${layout}": ` +
      `use the same layout in every process on this prefix (backend.layout "${found ?? layout}"), ` +
      `or drain the tasks with the old layout and start the new one on a fresh prefix`,
  );
}
