// js/src/l2/slots.ts: Redis Cluster key slots, computed here so the adapter can group keys by the
// node that serves them before sending anything (getMany: one round trip per node) and can
// name a bookkeeping key that lands in a chosen slot.
//
// Invariant: keySlot(key) equals the server's CLUSTER KEYSLOT for every key (CRC16/XMODEM of the
// key's UTF-8 bytes, or of its hash tag: the bytes between the first "{" and the next "}" when
// that is not empty), modulo 16384. tests/service/redis-adapter.test.ts checks it against the
// server. slotHashTag(slot) is a short string whose "{...}" puts a key into that slot.

export const SLOT_COUNT = 16384;

const CRC16_TABLE = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; ++byte) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; ++bit) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    table[byte] = crc;
  }
  return table;
})();

function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] as number);
  return crc;
}

/** The part of a key Redis hashes: its hash tag when it has a non-empty one, else the whole key. */
function hashedPart(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  // "{" and "}" are ASCII, so string offsets and UTF-8 byte offsets cut at the same characters.
  return key.slice(open + 1, close);
}

export function keySlot(key: string): number {
  return crc16(Buffer.from(hashedPart(key), 'utf8')) % SLOT_COUNT;
}

let slotTags: string[] | undefined;

/**
 * A short string (no braces) hashing to `slot`. Built once for all 16384 slots by trying strings
 * of 1 to 3 characters from [0-9A-Za-z] (238,328 candidates cover every slot: checked below, and
 * the build throws if not), in a few milliseconds.
 */
export function slotHashTag(slot: number): string {
  if (slotTags === undefined) slotTags = buildSlotTags();
  return slotTags[slot] as string;
}

function buildSlotTags(): string[] {
  const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const tags: Array<string | undefined> = new Array<string | undefined>(SLOT_COUNT).fill(undefined);
  let missing = SLOT_COUNT;
  let candidates = [''];
  for (let length = 1; length <= 3 && missing > 0; ++length) {
    const next: string[] = [];
    for (const stem of candidates) {
      for (const char of alphabet) {
        const candidate = stem + char;
        next.push(candidate);
        const slot = crc16(Buffer.from(candidate, 'latin1')) % SLOT_COUNT;
        if (tags[slot] === undefined) {
          tags[slot] = candidate;
          --missing;
        }
      }
    }
    candidates = next;
  }
  if (missing > 0) throw new Error(`internal: ${missing} cluster slots have no hash tag`);
  return tags as string[];
}
