// Malformed-record kinds that every input topic gets, whatever its schema: broken framing, bytes
// that do not decode, a decompression bomb, huge headers, binary keys, duplicates. Each kind says
// what must become of the record (its Fate); fuzz-table.ts adds each topic's semantic kinds.
import avro from 'avsc';
import type { ProducedRecord } from './kafka-io.ts';

export type FailureStage = 'DECODE' | 'VALIDATION' | 'PROCESSING' | 'PRODUCE';

/** Dead-lettered at `stage` (with a reason matching `reason`, if given), or passed to the output by `rule`. */
export type Fate = { deadLetter: FailureStage; reason?: RegExp } | { passes: string };

export interface FuzzRecord extends ProducedRecord {
  kind: string;
  expect: Fate;
  /** How the target recognises this record in its output (e.g. gateway/sequence, arm id, event id). */
  marker: string;
}

/** What a kind needs to build records for one topic. */
export interface KindContext<V> {
  random(): number;
  /** Unique in the run: goes into the good value (an id field) so the record can be traced. */
  marker: string;
  /** A valid value carrying `marker`. */
  good(): V;
  markerOf(value: V): string;
  /** The topic's key for a value (e.g. arm_id), as producers set it. */
  keyOf(value: V): string;
  /** Confluent wire format with the topic's registered writer schema. */
  encode(value: V): Buffer;
  /** Wire format with `field` written as `type` (e.g. an enum as an int): bytes no valid writer makes. */
  encodeVariant(value: Record<string, unknown>, field: string, type: avro.Schema): Buffer;
  /** A valid record of ANOTHER topic, with that topic's schema id. */
  otherTopicRecord(): Buffer;
  schemaId: number;
}

export interface FuzzKind<V> {
  name: string;
  /** Relative frequency among the malformed kinds (default 1). */
  weight?: number;
  /** At most this many per run (memory- or time-heavy kinds). */
  max?: number;
  records(c: KindContext<V>): FuzzRecord[];
}

const MIB = 1024 * 1024;
/** A decompression bomb: about 3 KB in a gzip batch, this much once a consumer decompresses it. */
export const BOMB_BYTES = 3 * MIB;
export const HUGE_HEADER_BYTES = 300 * 1024;

const DECODE: Fate = { deadLetter: 'DECODE' };

export function randomBytes(random: () => number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(random() * 256);
  return b;
}

function header(schemaId: number): Buffer {
  const h = Buffer.alloc(5);
  h.writeInt32BE(schemaId, 1);
  return h;
}

/** Random bytes after a valid header that the topic's schema cannot decode (a rare decodable draw is replaced). */
function undecodable(c: KindContext<unknown>, type: avro.Type): Buffer {
  for (;;) {
    const body = randomBytes(c.random, 8 + Math.floor(c.random() * 120));
    try {
      type.fromBuffer(body);
    } catch {
      return Buffer.concat([header(c.schemaId), body]);
    }
  }
}

/** One record of kind `name` with `value`, keyed as producers key it unless `key` says otherwise. */
function rec<V>(c: KindContext<V>, name: string, value: Buffer | null, expect: Fate, extra: Partial<FuzzRecord> = {}): FuzzRecord {
  return { kind: name, key: c.keyOf(c.good()), value, expect, marker: c.markerOf(c.good()), ...extra };
}

/** The kinds every input topic gets. `type` is the topic's reader type; `freeText` a string field no rule checks. */
export function commonKinds<V extends object>(type: avro.Type, freeText: keyof V & string, topicLimit: number): FuzzKind<V>[] {
  const good = (c: KindContext<V>): FuzzRecord => rec(c, 'good', c.encode(c.good()), { passes: 'a valid record' });
  return [
    { name: 'empty-value', records: (c) => [rec(c, 'empty-value', Buffer.alloc(0), DECODE)] },
    { name: 'tombstone', records: (c) => [rec(c, 'tombstone', null, DECODE)] },
    { name: 'not-wire-format', records: (c) => [rec(c, 'not-wire-format', Buffer.from(JSON.stringify(c.good())), DECODE)] },
    {
      name: 'bad-magic-byte',
      records: (c) => {
        const bytes = Buffer.from(c.encode(c.good()));
        bytes[0] = 1 + Math.floor(c.random() * 255);
        return [rec(c, 'bad-magic-byte', bytes, DECODE)];
      },
    },
    { name: 'truncated-header', records: (c) => [rec(c, 'truncated-header', c.encode(c.good()).subarray(0, 1 + Math.floor(c.random() * 4)), DECODE)] },
    {
      name: 'unknown-schema-id',
      records: (c) => [rec(c, 'unknown-schema-id', Buffer.concat([header(0x7fff0000 + Math.floor(c.random() * 0xffff)), c.encode(c.good()).subarray(5)]), { deadLetter: 'DECODE', reason: /not registered/ })],
    },
    { name: 'other-topics-schema', records: (c) => [rec(c, 'other-topics-schema', c.otherTopicRecord(), DECODE)] },
    {
      name: 'truncated-body',
      records: (c) => {
        const bytes = c.encode(c.good());
        return [rec(c, 'truncated-body', bytes.subarray(0, 5 + Math.floor(c.random() * (bytes.length - 6))), DECODE)];
      },
    },
    { name: 'trailing-garbage', records: (c) => [rec(c, 'trailing-garbage', Buffer.concat([c.encode(c.good()), randomBytes(c.random, 1 + Math.floor(c.random() * 16))]), DECODE)] },
    { name: 'random-body', records: (c) => [rec(c, 'random-body', undecodable(c as KindContext<unknown>, type), DECODE)] },
    {
      name: 'long-beyond-2^53',
      records: (c) => {
        // A zigzag varint of 2^60 where a long goes: valid Avro that JavaScript numbers cannot hold.
        const field = type.schema() as { fields: { name: string; type: unknown }[] };
        const longField = field.fields.find((f) => f.type === 'long' || (f.type as { type?: string }).type === 'long')!.name;
        const varint = Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20]);
        return [rec(c, 'long-beyond-2^53', c.encodeVariant({ ...c.good(), [longField]: varint }, longField, { type: 'fixed', name: 'Varint9', size: 9 }), DECODE)];
      },
    },
    {
      name: 'bomb-garbage',
      max: 2,
      records: (c) => [rec(c, 'bomb-garbage', Buffer.concat([Buffer.from(`BOMB ${c.marker} `), Buffer.alloc(BOMB_BYTES, 'A')]), DECODE, { gzip: true })],
    },
    {
      name: 'bomb-valid-avro',
      max: 2,
      // Well-formed, but far over the topic's max.message.bytes once decompressed.
      records: (c) => [rec(c, 'bomb-valid-avro', c.encode({ ...c.good(), [freeText]: 'x'.repeat(BOMB_BYTES) }), { deadLetter: 'DECODE', reason: new RegExp(`${topicLimit}|max\\.message\\.bytes|too large`, 'i') }, { gzip: true })],
    },
    { name: 'huge-header-valid', max: 3, records: (c) => [{ ...good(c), kind: 'huge-header-valid', headers: { 'x-fuzz-padding': Buffer.alloc(HUGE_HEADER_BYTES, 'h') }, expect: { passes: 'headers are not validated' } }] },
    { name: 'huge-header-garbage', max: 3, records: (c) => [rec(c, 'huge-header-garbage', Buffer.from(`garbage ${c.marker}`), DECODE, { headers: { 'x-fuzz-padding': Buffer.alloc(HUGE_HEADER_BYTES, 'h') } })] },
    { name: 'binary-key-valid', records: (c) => [{ ...good(c), kind: 'binary-key-valid', key: Buffer.concat([Buffer.from([0xff, 0xfe, 0x00]), randomBytes(c.random, 8)]), expect: { passes: 'keys are not read; the value decides' } }] },
    { name: 'binary-key-garbage', records: (c) => [rec(c, 'binary-key-garbage', Buffer.from(`garbage ${c.marker}`), DECODE, { key: Buffer.concat([Buffer.from([0xc3, 0x28, 0x00]), randomBytes(c.random, 8)]) })] },
    {
      name: 'duplicate',
      records: (c) => {
        const r = good(c);
        return [{ ...r, kind: 'duplicate', expect: { passes: 'a repeated record is a new record (new offset)' } }, { ...r, kind: 'duplicate', expect: { passes: 'a repeated record is a new record (new offset)' } }];
      },
    },
  ];
}

/** The good record every target interleaves with the malformed ones. */
export function goodRecord<V>(c: KindContext<V>): FuzzRecord {
  return rec(c, 'good', c.encode(c.good()), { passes: 'a valid record' });
}

/** Records of a kind whose value is the good value with `patch` (valid Avro) and the given fate. */
export function patched<V extends object>(name: string, patch: (v: V, c: KindContext<V>) => Partial<V>, expect: Fate, extra: Partial<FuzzKind<V>> = {}): FuzzKind<V> {
  return {
    name,
    ...extra,
    records: (c) => {
      const value = { ...c.good(), ...patch(c.good(), c) } as V;
      return [{ kind: name, key: c.keyOf(value), value: c.encode(value), expect, marker: c.markerOf(value) }];
    },
  };
}
