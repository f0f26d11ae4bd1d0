/**
 * Malformed input never crashes the server or creates a task: random bytes, wrong types, huge
 * numbers and prototype-pollution keys in bodies and queries all get a 4xx envelope.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { ErrorEnvelopeSchema } from "../../src/admin/schemas.js";
import { type Reply, start } from "./support.js";

const POLLUTING_KEYS = ["__proto__", "constructor", "prototype"];

/** Values a JSON body field might wrongly hold. */
const wrongValue = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.double({ noNaN: false }),
  fc.constantFrom(1e308, -1e308, 2 ** 53 + 1, Number.MAX_SAFE_INTEGER * 10, -0.5),
  fc.string({ maxLength: 40 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.dictionary(fc.constantFrom(...POLLUTING_KEYS, "x"), fc.jsonValue({ maxDepth: 2 })),
);

/** Bodies that must all be refused. None names the one registered handler ("echo"). */
const badBody = fc.oneof(
  fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? "null"),
  // Any string is a valid name for the DLQ routes: only non-strings are malformed everywhere.
  fc
    .record({ name: wrongValue.filter((value) => typeof value !== "string") })
    .map((body) => JSON.stringify(body)),
  fc
    .record({
      name: fc.constant("echo"),
      options: fc.dictionary(
        fc.constantFrom(
          "priority",
          "delayMs",
          "runAt",
          "timeoutMs",
          "ttlMs",
          "queue",
          ...POLLUTING_KEYS,
        ),
        wrongValue,
        { minKeys: 1 },
      ),
    })
    .filter((body) => Object.entries(body.options).some(([key, value]) => !validOption(key, value)))
    .map((body) => JSON.stringify(body)),
  fc
    .tuple(fc.constantFrom(...POLLUTING_KEYS), fc.jsonValue({ maxDepth: 2 }))
    .map(([key, value]) => `{"name":"echo","${key}":${JSON.stringify(value) ?? "null"}}`),
);

/** Whether an option value happens to be valid (then the body is not malformed). */
function validOption(key: string, value: unknown): boolean {
  const int = typeof value === "number" && Number.isSafeInteger(value);
  switch (key) {
    case "priority":
      return int && Math.abs(value as number) <= 1_000_000;
    case "delayMs":
      return int && (value as number) >= 0;
    case "runAt":
      return int && (value as number) >= 0;
    case "timeoutMs":
    case "ttlMs":
      return int && (value as number) > 0;
    case "queue":
      return typeof value === "string" && value.length > 0 && value.length <= 256;
    default:
      return false;
  }
}

const queryKey = fc.oneof(
  fc.constantFrom("status", "limit", "cursor", "queue", "name", ...POLLUTING_KEYS),
  fc.string({ maxLength: 10 }),
);
const queryValue = fc.oneof(
  fc.string({ maxLength: 20 }),
  fc.constantFrom("0", "-1", "1e9", "99999999999999999999", "NaN", "queued,,", "%00", "__proto__"),
);
const randomQuery = fc
  .array(fc.tuple(queryKey, queryValue), { minLength: 1, maxLength: 4 })
  .map((pairs) => new URLSearchParams(pairs).toString());

function expect4xxEnvelope(reply: Reply): void {
  expect(reply.status, reply.text).toBeGreaterThanOrEqual(400);
  expect(reply.status, reply.text).toBeLessThan(500);
  ErrorEnvelopeSchema.parse(reply.json);
}

describe("fuzzing", () => {
  it("malformed bodies always get a 4xx envelope and create no task", async () => {
    const { call, mill } = await start();
    const before = await mill.list();
    const prototypeKeys = Object.getOwnPropertyNames(Object.prototype).sort();
    await fc.assert(
      fc.asyncProperty(
        badBody,
        fc.constantFrom("/v1/tasks", "/v1/dlq/replay", "/v1/dlq/purge"),
        async (body, path) => {
          expect4xxEnvelope(await call("POST", path, { body }));
        },
      ),
      { numRuns: 300 },
    );
    expect(await mill.list()).toEqual(before);
    // No key reached a prototype: the server runs in this process, so it would show here.
    expect(Object.getOwnPropertyNames(Object.prototype).sort()).toEqual(prototypeKeys);
    expect((await call("GET", "/healthz")).status).toBe(200);
  });

  it("random queries get 200 or a 4xx envelope, never a 5xx, and change nothing", async () => {
    const { call, mill } = await start();
    await mill.submit("echo", 1, { delayMs: 60_000 });
    const before = await mill.list();
    await fc.assert(
      fc.asyncProperty(
        randomQuery,
        fc.constantFrom("/v1/tasks", "/v1/dlq"),
        async (query, path) => {
          const reply = await call("GET", `${path}?${query}`);
          // A random query is sometimes valid (e.g. `name=x`): then it is simply answered.
          if (reply.status === 200) expect(Array.isArray(reply.json.tasks)).toBe(true);
          else expect4xxEnvelope(reply);
        },
      ),
      { numRuns: 300 },
    );
    expect(await mill.list()).toEqual(before);
  });
});
