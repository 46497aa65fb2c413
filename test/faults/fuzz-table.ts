// THE TABLE: per input topic, the malformed-record kinds the fuzz sends and what must become of
// each (dead letter at a stage, or passed to the output by a stated rule). A new pipeline adds a
// FuzzTable here (its good value, its semantic kinds, how its output shows a record passed) and a
// FuzzTarget in fuzz-targets.ts (how to run it and observe it); see docs/fault-suite.md. The
// document uploads' table has a file of its own: fuzz-table-documents.ts.
import avro from 'avsc';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { BillingEvent, CameraFrame, SensorReading } from '../../schemas/generated/types.ts';
import { boardJpeg, boardPng, pngClaiming } from '../../streams/vision/test-frames.ts';
import { BOMB_BYTES, commonKinds, patched, type Fate, type FuzzKind, type FuzzRecord, type KindContext } from './malformed.ts';

export interface FuzzTable<V extends object> {
  /** The value a well-behaved producer sends, carrying the run's marker `n`. */
  good(run: string, n: number, now: number): V;
  keyOf(value: V): string;
  /** How the target's output identifies a passed record (a record dead-lettered has one too, for reports). */
  markerOf(value: V): string;
  kinds: FuzzKind<V>[];
}

const INVALID: Fate = { deadLetter: 'VALIDATION' };
/** `patched` with the value type fixed, so a patch is checked against the topic's record. */
const reading = (name: string, patch: (v: SensorReading, c: KindContext<SensorReading>) => Partial<SensorReading>, expect: Fate, extra: Partial<FuzzKind<SensorReading>> = {}) => patched<SensorReading>(name, patch, expect, extra);
const billingEvent = (name: string, patch: (v: BillingEvent, c: KindContext<BillingEvent>) => Partial<BillingEvent>, expect: Fate, extra: Partial<FuzzKind<BillingEvent>> = {}) => patched<BillingEvent>(name, patch, expect, extra);
const pick = <T>(c: KindContext<unknown>, items: T[]): T => items[Math.floor(c.random() * items.length)];

/** Bytes where a string goes that are not UTF-8 (an Avro string must be); written via a `bytes` variant. */
function invalidUtf8<V extends object>(name: string, field: keyof V & string, expect: Fate): FuzzKind<V> {
  return {
    name,
    records: (c) => {
      const raw = Buffer.concat([Buffer.from(`${c.keyOf(c.good())}-`), Buffer.from([0xff, 0xfe, 0xc3, 0x28])]);
      const value = { ...c.good(), [field]: raw } as Record<string, unknown>;
      // What a lenient UTF-8 reader (avsc) makes of it: U+FFFD for each bad sequence.
      const asRead = { ...c.good(), [field]: raw.toString('utf8') } as V;
      return [{ kind: name, key: c.keyOf(asRead), value: c.encodeVariant(value, field, 'bytes'), expect, marker: c.markerOf(asRead) }];
    },
  };
}

/** Readings that break sensor-validation's rules (schemas/factory/sensor-reading-rules.ts): NaN, range, unit, time, ids. */
function readingRuleKinds(): FuzzKind<SensorReading>[] {
  return [
    reading('nan-value', () => ({ value: Number.NaN }), INVALID),
    reading('+infinity-value', () => ({ value: Number.POSITIVE_INFINITY }), INVALID),
    reading('-infinity-value', () => ({ value: Number.NEGATIVE_INFINITY }), INVALID),
    reading('out-of-range', (_, c) => pick(c, [{ sensor: 'VIBRATION', unit: 'mm/s', value: 1e6 }, { sensor: 'TEMPERATURE', unit: 'degC', value: -300 }, { sensor: 'PRESSURE', unit: 'bar', value: -1 }] as const), INVALID),
    reading('wrong-unit', () => ({ sensor: 'TEMPERATURE', unit: 'degF', value: 150 }), INVALID),
    reading('empty-unit', () => ({ unit: '' }), INVALID),
    reading('event-time-year--1199', () => ({ event_time: Date.UTC(-1199, 0, 1) }), INVALID),
    reading('event-time-year-10000', () => ({ event_time: Date.UTC(10000, 0, 1) }), INVALID),
    reading('event-time-beyond-js-date', (_, c) => ({ event_time: 8.64e15 + 1 + Math.floor(c.random() * 1e6) }), INVALID),
    reading('event-time-1h-in-the-future', () => ({ event_time: Date.now() + 3_600_000 }), INVALID),
    reading('event-time-before-2000', () => ({ event_time: Date.UTC(1999, 11, 31, 23) }), INVALID),
    reading('bad-arm-id', (v, c) => ({ arm_id: pick(c, [`${v.arm_id} x`, `${v.arm_id}/x`, `-${v.arm_id}`, `${v.arm_id}\n`, `${v.arm_id}${'z'.repeat(64)}`]) }), INVALID),
    reading('empty-arm-id', () => ({ arm_id: '' }), INVALID),
    reading('huge-arm-id', (v) => ({ arm_id: `${v.arm_id}${'a'.repeat(200_000)}` }), INVALID, { max: 3 }),
    invalidUtf8<SensorReading>('invalid-utf8-arm-id', 'arm_id', INVALID),
    reading('negative-sequence', (v) => ({ sequence: -1 - v.sequence }), INVALID),
    {
      name: 'enum-index-out-of-range',
      records: (c) => [{ kind: 'enum-index-out-of-range', key: c.keyOf(c.good()), value: c.encodeVariant({ ...c.good(), sensor: 7 }, 'sensor', 'int'), expect: { deadLetter: 'DECODE' }, marker: c.markerOf(c.good()) }],
    },
    // Passed by rule: fields no rule checks.
    invalidUtf8<SensorReading>('invalid-utf8-plant-id', 'plant_id', { passes: 'free text is not validated; invalid UTF-8 is read as U+FFFD' }),
    reading('huge-plant-id', () => ({ plant_id: 'p'.repeat(200_000) }), { passes: 'free text is not validated (200 KB fits every topic)' }, { max: 3 }),
    reading('quality-bad', () => ({ quality: 'BAD' }), { passes: "quality is the gateway's opinion, carried along" }),
  ];
}


function goodReading(run: string, n: number, now: number, armOf: (n: number) => string): SensorReading {
  const sensor = (['VIBRATION', 'TEMPERATURE', 'PRESSURE'] as const)[n % 3];
  const [unit, value] = ({ VIBRATION: ['mm/s', 2 + (n % 10) / 10], TEMPERATURE: ['degC', 55 + (n % 7)], PRESSURE: ['bar', 6 + (n % 5) / 10] } as const)[sensor];
  return { arm_id: armOf(n), sensor, value, unit, event_time: now - 120_000 + (n % 60) * 1_000, gateway_id: run, plant_id: 'plant-faults', sequence: n, quality: 'GOOD', channel: null, settings: null };
}

/** factory.sensor-readings.v1 -> sensor-validation -> factory.sensor-readings-validated.v1. */
export const RAW_READINGS: FuzzTable<SensorReading> = {
  good: (run, n, now) => goodReading(run, n, now, (k) => `${run}-r${k}`),
  keyOf: (v) => v.arm_id,
  // The output is the input unchanged: gateway and sequence identify it.
  markerOf: (v) => `${v.gateway_id}/${v.sequence}`,
  kinds: [...commonKinds<SensorReading>(readingType(), 'plant_id', TOPICS.sensorReadings.maxMessageBytes), ...readingRuleKinds()],
};

/**
 * factory.sensor-readings-validated.v1 -> maintenance-scorer. Anyone who can write the topic can
 * break its contract, so the scorer must hold its input to sensor-validation's rules before a
 * reading reaches the windows (NaN in a window poisons the arm for 12 h): each rule kind is a
 * VALIDATION dead letter here too. Every reading gets its own arm, so the arm's window count says
 * exactly which readings were applied.
 */
export const VALIDATED_READINGS: FuzzTable<SensorReading> = {
  good: (run, n, now) => goodReading(run, n, now, (k) => `${run}-v${k}`),
  keyOf: (v) => v.arm_id,
  markerOf: (v) => v.arm_id,
  kinds: [
    ...commonKinds<SensorReading>(readingType(), 'plant_id', TOPICS.sensorReadings.maxMessageBytes).map((k) =>
      k.name === 'duplicate' ? { ...k, records: (c: KindContext<SensorReading>) => k.records(c).map((r) => ({ ...r, expect: { passes: 'the scorer applies what it is given; upstream is exactly-once' } })) } : k,
    ),
    ...readingRuleKinds(),
    {
      name: 'late-reading',
      // The arm's newest reading, then one 10 min older: beyond the 5-bucket lateness.
      records: (c) => {
        const newest = c.good();
        const late = { ...newest, event_time: newest.event_time - 600_000, sequence: newest.sequence + 1 };
        return [
          { kind: 'late-reading', key: c.keyOf(newest), value: c.encode(newest), expect: { passes: 'a valid record' }, marker: c.markerOf(newest) },
          { kind: 'late-reading', key: c.keyOf(late), value: c.encode(late), expect: { deadLetter: 'VALIDATION', reason: /arrived more than/ }, marker: c.markerOf(late) },
        ];
      },
    },
  ],
};

/**
 * telecom.billing-events.v1 -> Parquet lake sink. The lake keeps what billing systems sent within
 * the stated lake rules (connectors/parquet-sink/lake-rules.ts, docs/sparkscale.md): a plausible
 * event time, finite numbers, ids of 1-128 characters without control characters or surrounding
 * spaces, non-negative durations, an ISO 4217 currency whenever there is an amount. Free text (plan,
 * complaint category) passes as it is. Passed records are found by their Kafka coordinates
 * (kafka_partition, kafka_offset columns).
 */
export const BILLING_EVENTS: FuzzTable<BillingEvent> = {
  good: (run, n, now) => ({ event_id: `${run}-${n}`, user_id: `${run}-u${n % 40}`, event_time: now - 7 * 86_400_000 + n * 1_000, event_type: n % 3 === 0 ? 'BILL' : 'CALL', call_duration_s: n % 3 === 0 ? null : 30 + (n % 17), data_mb: null, amount: n % 3 === 0 ? 20 + (n % 7) : null, currency: n % 3 === 0 ? 'EUR' : null, plan: 'month-to-month/fiber-optic', complaint_category: null, late_payment: false, payment_method: null }),
  keyOf: (v) => v.user_id,
  markerOf: (v) => v.event_id,
  kinds: [
    ...commonKinds<BillingEvent>(billingType(), 'plan', TOPICS.billingEvents.maxMessageBytes),
    billingEvent('event-time-year--1199', () => ({ event_time: Date.UTC(-1199, 0, 1) }), INVALID),
    billingEvent('event-time-year-10000', () => ({ event_time: Date.UTC(10000, 0, 1) }), INVALID),
    billingEvent('event-time-beyond-js-date', (_, c) => ({ event_time: 8.64e15 + 1 + Math.floor(c.random() * 1e6) }), INVALID),
    billingEvent('event-time-1970', () => ({ event_time: 1_780_000_000 }), INVALID), // seconds read as milliseconds
    billingEvent('event-time-a-year-ahead', () => ({ event_time: Date.now() + 365 * 86_400_000 }), INVALID),
    {
      name: 'enum-index-out-of-range',
      records: (c) => [{ kind: 'enum-index-out-of-range', key: c.keyOf(c.good()), value: c.encodeVariant({ ...c.good(), event_type: 99 }, 'event_type', 'int'), expect: { deadLetter: 'DECODE' }, marker: c.markerOf(c.good()) }],
    },
    billingEvent('nan-amount', () => ({ event_type: 'BILL', amount: Number.NaN, currency: 'EUR' }), INVALID),
    billingEvent('infinite-duration', () => ({ event_type: 'CALL', call_duration_s: Number.POSITIVE_INFINITY }), INVALID),
    billingEvent('negative-duration', () => ({ event_type: 'CALL', call_duration_s: -5 }), INVALID),
    billingEvent('amount-without-currency', () => ({ event_type: 'BILL', amount: 12.5, currency: null }), INVALID),
    billingEvent('bad-currency', () => ({ event_type: 'BILL', amount: 12.5, currency: 'euro' }), INVALID),
    billingEvent('empty-event-id', () => ({ event_id: '' }), INVALID),
    billingEvent('huge-event-id', (v) => ({ event_id: `${v.event_id}${'e'.repeat(200_000)}` }), INVALID, { max: 3 }),
    billingEvent('control-character-in-user-id', (v) => ({ user_id: `${v.user_id}\u0000` }), INVALID),
    billingEvent('user-id-with-spaces', (v) => ({ user_id: ` ${v.user_id} ` }), INVALID),
    // Passed by rule.
    invalidUtf8<BillingEvent>('invalid-utf8-user-id', 'user_id', { passes: 'ids are checked for length, control characters and spaces only; invalid UTF-8 is read as U+FFFD' }),
    billingEvent('huge-plan', () => ({ plan: 'p'.repeat(200_000) }), { passes: 'free text is taken as it is (200 KB fits the topic)' }, { max: 3 }),
    billingEvent('late-payment-on-a-call', () => ({ event_type: 'CALL', late_payment: true }), { passes: 'field combinations beyond the stated rules are not checked' }),
  ],
};

/** Images for the vision kinds, made once: a small board frame (64x64 keeps 1,500 records quick). */
const FRAME_JPEG = await boardJpeg(64, 64, 3);
const FRAME_PNG = await boardPng(64, 64, 4);
const REJECTED = (reason: RegExp): Fate => ({ deadLetter: 'PROCESSING', reason });
const cameraFrame = (name: string, patch: (v: CameraFrame, c: KindContext<CameraFrame>) => Partial<CameraFrame>, expect: Fate, extra: Partial<FuzzKind<CameraFrame>> = {}) => patched<CameraFrame>(name, patch, expect, extra);

/**
 * vision.frames.v1 -> vision-qc -> vision.qc-results.v1. A frame that cannot be inspected is
 * rejected by the worker task with its reason (streams/vision/frame-image.ts); ids are checked
 * before (they key and dedupe results). A passed frame is a result carrying its frame_id.
 */
export const CAMERA_FRAMES: FuzzTable<CameraFrame> = {
  good: (run, n, now) => ({ frame_id: `${run}-${n}`, camera_id: `${run}-cam${n % 4}`, line_id: 'line-faults', captured_at: now - 1_000, width: 64, height: 64, encoding: 'JPEG', image: FRAME_JPEG, template_id: null }),
  keyOf: (v) => v.camera_id,
  markerOf: (v) => v.frame_id,
  kinds: [
    // The common bomb is 3 MiB, under this topic's 8 MiB: a 9 MiB one is over it once decompressed.
    ...commonKinds<CameraFrame>(cameraFrameType(), 'line_id', TOPICS.cameraFrames.maxMessageBytes).map((k) =>
      k.name !== 'bomb-valid-avro'
        ? k
        : {
            name: k.name,
            max: 2,
            records: (c: KindContext<CameraFrame>): FuzzRecord[] => {
              const value = { ...c.good(), line_id: 'x'.repeat(3 * BOMB_BYTES) };
              return [{ kind: k.name, key: c.keyOf(value), value: c.encode(value), expect: { deadLetter: 'DECODE', reason: /max\.message\.bytes of 8388608/ }, marker: c.markerOf(value), gzip: true }];
            },
          },
    ),
    cameraFrame('empty-image', () => ({ image: Buffer.alloc(0) }), REJECTED(/^image is empty/)),
    cameraFrame('corrupt-jpeg', (_, c) => ({ image: FRAME_JPEG.subarray(0, 40 + Math.floor(c.random() * (FRAME_JPEG.length - 60))) }), REJECTED(/^corrupt JPEG: /)),
    cameraFrame('png-declared-jpeg', () => ({ image: FRAME_PNG }), REJECTED(/^encoding says JPEG but the image bytes are a PNG$/)),
    cameraFrame('jpeg-declared-png', () => ({ encoding: 'PNG' }), REJECTED(/^encoding says PNG but the image bytes are a JPEG$/)),
    cameraFrame('wrong-size', (_, c) => ({ width: 65 + Math.floor(c.random() * 4000) }), REJECTED(/^frame declares \d+x64 but the JPEG is 64x64$/)),
    cameraFrame('pixel-bomb', () => ({ encoding: 'PNG', width: 15_000, height: 15_000, image: pngClaiming(15_000, 15_000) }), REJECTED(/over the limit of 40000000$/)),
    cameraFrame('not-an-image', (_, c) => ({ image: Buffer.from(`GIF89a ${c.marker}`) }), REJECTED(/^image is neither JPEG nor PNG/)),
    cameraFrame('empty-frame-id', () => ({ frame_id: '' }), INVALID),
    cameraFrame('control-character-in-camera-id', (v) => ({ camera_id: `${v.camera_id}\u0000` }), INVALID),
    {
      name: 'enum-index-out-of-range',
      records: (c) => [{ kind: 'enum-index-out-of-range', key: c.keyOf(c.good()), value: c.encodeVariant({ ...c.good(), encoding: 5 }, 'encoding', 'int'), expect: { deadLetter: 'DECODE' }, marker: c.markerOf(c.good()) }],
    },
    // Passed by rule.
    cameraFrame('huge-line-id', () => ({ line_id: 'l'.repeat(200_000) }), { passes: 'line_id is not used by the inspection (200 KB fits the topic)' }, { max: 3 }),
    cameraFrame('negative-captured-at', () => ({ captured_at: -1 }), { passes: 'captured_at is copied to the result, not checked: the camera clock is the camera\'s' }),
  ],
};

function cameraFrameType(): avro.Type {
  return avro.Type.forSchema(loadSchema(TOPICS.cameraFrames.schema) as avro.Schema);
}

function readingType(): avro.Type {
  return avro.Type.forSchema(loadSchema(TOPICS.sensorReadings.schema) as avro.Schema);
}

function billingType(): avro.Type {
  return avro.Type.forSchema(loadSchema(TOPICS.billingEvents.schema) as avro.Schema);
}

/** The kinds of `table` whose name matches (all when `only` is undefined). */
export function kindsOf<V extends object>(table: FuzzTable<V>, only?: RegExp): FuzzKind<V>[] {
  return only ? table.kinds.filter((k) => only.test(k.name)) : table.kinds;
}

