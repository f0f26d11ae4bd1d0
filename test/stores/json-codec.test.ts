import { describe, expect, it } from "vitest";
import { InvalidArgumentError } from "../../src/errors.js";
import { encodeJson } from "../../src/stores/json-codec.js";

// encodeJson stringifies scalars and flat plain objects without its checking replacer (the
// common payload): that shortcut must give the same text, and refuse the same values.
describe("encodeJson", () => {
  it("gives JSON.stringify's text for scalars and flat plain objects", () => {
    const values: unknown[] = [
      0,
      -0,
      1.5,
      'text with "quotes" and \\u2028',
      true,
      null,
      {},
      { a: 1, b: "x", c: null, d: false },
      Object.assign(Object.create(null), { a: 1 }),
      { nested: { a: 1 }, list: [1, 2] },
      { when: new Date(0) },
    ];
    for (const value of values) expect(encodeJson("payload", value)).toBe(JSON.stringify(value));
  });

  it("drops undefined properties of a flat object, as JSON does", () => {
    expect(encodeJson("payload", { a: 1, b: undefined })).toBe('{"a":1}');
  });

  it("refuses what JSON would change, flat or not", () => {
    for (const value of [
      Number.NaN,
      Number.POSITIVE_INFINITY,
      { a: Number.NaN },
      { a: () => 1 },
      { a: 1n },
      { a: Symbol("s") },
      new Map([[1, 2]]),
      { a: new Set() },
      [1, undefined],
      {
        get broken(): number {
          throw new Error("no");
        },
      },
    ])
      expect(() => encodeJson("payload", value)).toThrow(InvalidArgumentError);
  });
});
