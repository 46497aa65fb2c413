// The spool's on-disk format (docs/gateway.md, "Spool format"): segment header, length- and
// CRC-framed records, and the scan that validates a segment after a crash.
import { closeSync, fsyncSync, ftruncateSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { crc32 } from 'node:zlib';

export interface SpoolRecord {
  key: string;
  value: Buffer;
  /** Kafka record timestamp (epoch ms): when the gateway accepted the reading. */
  timestamp: number;
}

const MAGIC = Buffer.from('SSPL');
const VERSION = 1;
/** Bytes of the segment header ('SSPL' + u32 version); the first record starts here. */
export const HEADER_BYTES = 8;
/** [u32 payload length][u32 crc32(payload)] before every payload. */
export const RECORD_HEADER_BYTES = 8;
const MAX_RECORD_BYTES = 16 * 1024 * 1024;

export function segmentHeader(): Buffer {
  const header = Buffer.alloc(HEADER_BYTES);
  MAGIC.copy(header, 0);
  header.writeUInt32BE(VERSION, 4);
  return header;
}

/** One framed record: [u32 length][u32 crc32][u16 key length][key][f64 timestamp][value]. */
export function encodeRecord(r: SpoolRecord): Buffer {
  const keyLength = Buffer.byteLength(r.key);
  const payloadLength = 2 + keyLength + 8 + r.value.length;
  const out = Buffer.allocUnsafe(RECORD_HEADER_BYTES + payloadLength);
  out.writeUInt32BE(payloadLength, 0);
  let at = RECORD_HEADER_BYTES;
  out.writeUInt16BE(keyLength, at);
  at += 2;
  at += out.write(r.key, at, 'utf8');
  out.writeDoubleBE(r.timestamp, at);
  at += 8;
  r.value.copy(out, at);
  out.writeUInt32BE(crc32(out.subarray(RECORD_HEADER_BYTES)), 4);
  return out;
}

/** Parses records from `buf` (starting at a record boundary) until `max` or an incomplete record; throws on a bad CRC. */
export function decodeRecords(buf: Buffer, length: number, max: number): { records: SpoolRecord[]; bytes: number } {
  const records: SpoolRecord[] = [];
  let at = 0;
  while (records.length < max && at + RECORD_HEADER_BYTES <= length) {
    const len = buf.readUInt32BE(at);
    if (at + RECORD_HEADER_BYTES + len > length) break; // continues in the next read
    const payload = buf.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len);
    if (crc32(payload) !== buf.readUInt32BE(at + 4)) throw new Error(`crc mismatch at +${at}`);
    const keyLength = payload.readUInt16BE(0);
    records.push({
      key: payload.toString('utf8', 2, 2 + keyLength),
      timestamp: payload.readDoubleBE(2 + keyLength),
      value: Buffer.from(payload.subarray(2 + keyLength + 8)),
    });
    at += RECORD_HEADER_BYTES + len;
  }
  return { records, bytes: at };
}

export interface ScanResult {
  /** Valid bytes (header + whole records) and records, after any truncation. */
  bytes: number;
  count: number;
  /** What was wrong at the tail, if anything, and how many bytes were cut. */
  problem: string | null;
  truncatedBytes: number;
}

/** Validates a segment record by record and truncates it at the first torn or corrupt record. */
export function scanSegment(path: string): ScanResult {
  const data = readFileSync(path);
  let problem: string | null = null;
  let bytes = 0;
  let count = 0;
  if (data.length < HEADER_BYTES || !data.subarray(0, 4).equals(MAGIC) || data.readUInt32BE(4) !== VERSION) {
    problem = 'bad segment header';
  } else {
    let at = HEADER_BYTES;
    while (at < data.length) {
      if (at + RECORD_HEADER_BYTES > data.length) {
        problem = 'torn record header';
        break;
      }
      const len = data.readUInt32BE(at);
      if (len > MAX_RECORD_BYTES || at + RECORD_HEADER_BYTES + len > data.length) {
        problem = `torn record (${len} bytes claimed, ${data.length - at - RECORD_HEADER_BYTES} present)`;
        break;
      }
      if (crc32(data.subarray(at + RECORD_HEADER_BYTES, at + RECORD_HEADER_BYTES + len)) !== data.readUInt32BE(at + 4)) {
        problem = 'crc mismatch';
        break;
      }
      at += RECORD_HEADER_BYTES + len;
      count++;
    }
    bytes = at;
  }
  const truncatedBytes = problem ? data.length - bytes : 0;
  if (problem && bytes === 0) {
    // Not even a header: rewrite one so the file is a valid empty segment.
    const fd = openSync(path, 'w');
    writeSync(fd, segmentHeader());
    fsyncSync(fd);
    closeSync(fd);
    bytes = HEADER_BYTES;
  } else if (problem) {
    const fd = openSync(path, 'r+');
    ftruncateSync(fd, bytes);
    fsyncSync(fd);
    closeSync(fd);
  }
  const size = statSync(path).size;
  if (size !== bytes) throw new Error(`spool: ${path} is ${size} bytes after recovery, expected ${bytes}`);
  return { bytes, count, problem, truncatedBytes };
}
