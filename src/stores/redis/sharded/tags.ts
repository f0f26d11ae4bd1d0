/**
 * Shard prefixes of the sharded layout. Every shard is a `RedisStore` on its own prefix, so all
 * its keys carry one hash tag `{<shard prefix>}` and every script stays in one slot by
 * construction. The control shard is the deployment's prefix itself; a queue's shard (or each of
 * its partitions) derives its prefix from the queue name.
 *
 * Queue names may hold any character, braces included, but a prefix may not (a brace would end
 * the hash tag early): the name is percent-escaped, which is brace-free and unambiguous (two
 * names never share a prefix, and `#` only ever marks the partition).
 */

/** Characters written `%XX`: the escape itself, braces (hash tag) and `#` (partition mark). */
const ESCAPED = new Set(["%", "{", "}", "#"]);

/** `%`, braces, `#` and control characters escaped as `%XX`: injective and brace-free. */
export function escapeQueueName(queue: string): string {
  let out = "";
  for (const char of queue) {
    const code = char.charCodeAt(0);
    out +=
      ESCAPED.has(char) || code < 0x20
        ? `%${code.toString(16).padStart(2, "0").toUpperCase()}`
        : char;
  }
  return out;
}

/**
 * The prefix of partition `partition` of `queue` (of `partitions`): `<prefix>:q:<escaped>`,
 * with `#<partition>` appended when the queue has more than one partition.
 */
export function shardPrefix(
  prefix: string,
  queue: string,
  partition: number,
  partitions: number,
): string {
  const base = `${prefix}:q:${escapeQueueName(queue)}`;
  return partitions > 1 ? `${base}#${partition}` : base;
}

/** 32-bit FNV-1a of a string's UTF-16 code units: stable across processes and versions. */
export function stableHash(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}
