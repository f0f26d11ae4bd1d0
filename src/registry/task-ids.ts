import { randomBytes } from "node:crypto";

/**
 * Task ids: RFC 9562 version-8 UUIDs made of a random prefix per registry (74 random bits) and
 * a 48-bit submission sequence, e.g. `3f9c2a71-5be0-8d4f-a1c7-00000000002a`.
 *
 * - Unique: two registries (processes, managers) share a prefix with negligible probability,
 *   and the sequence never repeats inside one.
 * - Cheap to index: the registry finds a record by its sequence number, so a lookup never
 *   hashes a freshly made 36-character string (which cost more than the rest of a submit).
 * - Flat: the text is written into a buffer and read out once, with no string concatenation
 *   left behind as a rope.
 */
export class TaskIdFormat {
  /** The first 24 characters, up to and including the last dash. */
  readonly prefix: string;
  readonly #text = Buffer.allocUnsafe(36);

  constructor() {
    const hex = randomBytes(10).toString("hex"); // 20 hex digits, 74 of their bits used
    const variant = ((Number.parseInt(hex[15] as string, 16) & 0x3) | 0x8).toString(16);
    this.prefix = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-8${hex.slice(12, 15)}-${variant}${hex.slice(16, 19)}-`;
    this.#text.write(this.prefix, 0, "latin1");
  }

  /** The id of submission number `sequence` (0 <= sequence < 2^48). */
  format(sequence: number): string {
    const text = this.#text;
    let rest = sequence;
    for (let i = 35; i >= 24; i--) {
      const digit = rest % 16;
      text[i] = digit < 10 ? 48 + digit : 87 + digit; // '0'-'9', 'a'-'f'
      rest = Math.floor(rest / 16);
    }
    return text.toString("latin1", 0, 36);
  }

  /** The sequence number an id of this format encodes, or -1 for any other id. */
  parse(id: string): number {
    if (typeof id !== "string" || id.length !== 36 || !id.startsWith(this.prefix)) return -1;
    const sequence = Number.parseInt(id.slice(24), 16);
    return Number.isSafeInteger(sequence) && /^[0-9a-f]{12}$/.test(id.slice(24)) ? sequence : -1;
  }
}
