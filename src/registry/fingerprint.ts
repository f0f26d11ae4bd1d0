/**
 * A canonical text for a payload, so the same data submitted twice under one idempotency key
 * compares equal whatever the key order of its objects, including objects a `toJSON()` returns
 * (a Date, a Decimal, a class with its own JSON form). safe-stable-stringify (pino's) sorts keys
 * at every depth, after `toJSON`.
 */
import { configure } from "safe-stable-stringify";

const canonicalJson = configure({
  deterministic: true,
  // Anything JSON cannot represent (BigInt, NaN, functions, cycles) throws: no fingerprint.
  strict: true,
  circularValue: Error,
});

/** The canonical JSON of `value`, or `undefined` when it is not JSON data. */
export function fingerprint(value: unknown): string | undefined {
  try {
    return canonicalJson(value);
  } catch {
    // The caller falls back to comparing identity.
    return undefined;
  }
}
