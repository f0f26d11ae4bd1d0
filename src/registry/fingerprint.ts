/**
 * A canonical text for a payload, so the same data submitted twice under one idempotency key
 * compares equal whatever the key order of its objects.
 */
export function fingerprint(value: unknown): string | undefined {
  try {
    return JSON.stringify(canonical(value, new Set()));
  } catch {
    // BigInt, cycles and the like: the caller falls back to comparing identity.
    return undefined;
  }
}

function canonical(value: unknown, seen: Set<object>): unknown {
  if (typeof value !== "object" || value === null) return value;
  if (seen.has(value)) throw new TypeError("cyclic payload");
  seen.add(value);
  try {
    if (Array.isArray(value)) return value.map((item) => canonical(item, seen));
    const withToJSON = value as { toJSON?: () => unknown };
    if (typeof withToJSON.toJSON === "function") return withToJSON.toJSON();
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort())
      sorted[key] = canonical((value as Record<string, unknown>)[key], seen);
    return sorted;
  } finally {
    seen.delete(value);
  }
}
