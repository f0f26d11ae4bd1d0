/**
 * Redis Cluster's key slot (CRC16-CCITT/XMODEM of the key's hash tag, mod 16384), written out
 * so the tests check slots exactly as a Cluster would, without a Cluster.
 */

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++)
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc;
}

/** The part of a key that is hashed: the first non-empty `{...}`, else the whole key. */
export function hashTag(key: string): string {
  const open = key.indexOf("{");
  if (open < 0) return key;
  const close = key.indexOf("}", open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/** The Cluster slot of `key`. */
export function keySlot(key: string): number {
  return crc16(new TextEncoder().encode(hashTag(key))) % 16384;
}
