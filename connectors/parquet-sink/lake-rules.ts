// What the lake accepts. A decoded record that breaks a rule goes to `<topic>.dlq` at stage
// VALIDATION with every broken rule in the reason; nothing else is skipped. The rules keep out what
// would break the lake or the Spark jobs that read it, and are stated in docs/sparkscale.md:
//
//   - time field (every dataset): within [2000-01-01T00:00Z, reference + 31 days], where the
//     reference is the record's Kafka timestamp (when it was produced), capped at the sink's clock.
//     The earliest bound is far below real billing data (Telco histories reach at most 72 months
//     before their cut-off; synthetic histories start at `--start`) and catches unit bugs
//     (seconds read as milliseconds land in January 1970). 31 days of lead admit a cancellation or
//     plan change booked now for the end of a notice period (the Telco producer's churners cancel
//     up to 30 days after its cut-off). Outside the range a year can also lose its 4-digit form
//     (`event_date=+010000-01`), after which Spark reads `event_date` as a string for the whole lake;
//   - double and float fields (every dataset, from the schema): finite; one NaN or Infinity turns
//     every sum and mean of a user's features into NaN;
//   - billing events: `event_id` and `user_id` are 1-128 characters with no control characters and
//     no surrounding spaces (they are join keys); `call_duration_s` and `data_mb` are not negative;
//     `currency` is an ISO 4217 code (three capitals) and is set whenever `amount` is. Other strings
//     (plan, complaint category, payment method) are taken as they are: Parquet and Spark carry any
//     UTF-8, and avsc already turns invalid UTF-8 into U+FFFD.
//
// Messages quote the offending value where that helps whoever reads the DLQ; logs remove personal
// values from them (streams/runtime/personal-data.ts).

const DAY_MS = 86_400_000;

export interface LakeTimeRange {
  /** Earliest accepted time, epoch ms. */
  earliest: number;
  /** How far after the record's reference time an event may be dated. */
  maxLeadMs: number;
}

export const LAKE_TIME_RANGE: LakeTimeRange = { earliest: Date.UTC(2000, 0, 1), maxLeadMs: 31 * DAY_MS };

export interface RecordContext {
  /** The record's Kafka timestamp (ms); not a finite number when the broker gave none. */
  recordTimestamp: number;
  /** The sink's clock (ms). */
  now: number;
}

/** A rule returns what is wrong with a decoded record, or null when it holds. */
export type LakeRule = (value: Record<string, unknown>, ctx: RecordContext) => string | null;

/** ISO text of a time, or a description when it has none (toISOString throws beyond ±8.64e15 ms). */
export function isoOrDescription(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? 'beyond the calendar' : d.toISOString();
}

/** A value for a message: numbers as JS prints them (NaN, Infinity), anything else as JSON. */
function describe(v: unknown): string {
  return typeof v === 'number' ? String(v) : (JSON.stringify(v) ?? String(v));
}

/** Epoch ms of a timestamp-millis value as avsc decodes it (a number, or a Date with logical types). */
export function timeValue(v: unknown): number | null {
  if (v instanceof Date) return v.getTime();
  return typeof v === 'number' ? v : null;
}

/** The latest accepted time for a record: its reference (produce time, capped at now) plus the lead. */
export function latestAccepted(ctx: RecordContext, range: LakeTimeRange = LAKE_TIME_RANGE): number {
  const produced = Number.isFinite(ctx.recordTimestamp) && ctx.recordTimestamp > 0 ? ctx.recordTimestamp : ctx.now;
  return Math.min(produced, ctx.now) + range.maxLeadMs;
}

export function timeRangeRule(field: string, range: LakeTimeRange = LAKE_TIME_RANGE): LakeRule {
  return (value, ctx) => {
    const t = timeValue(value[field]);
    if (t === null || !Number.isFinite(t)) return `${field} is ${describe(value[field])}, not a timestamp`;
    const latest = latestAccepted(ctx, range);
    if (t >= range.earliest && t <= latest) return null;
    return `${field} ${t} (${isoOrDescription(t)}) is outside the lake's accepted range [${isoOrDescription(range.earliest)}, ${isoOrDescription(latest)}] (record timestamp + ${Math.round(range.maxLeadMs / DAY_MS)} days)`;
  };
}

type AvroField = { name: string; type: unknown };

/** The names of a record schema's double and float fields, optional ones included. */
export function floatingFields(recordSchema: object): string[] {
  const fields = (recordSchema as { fields?: AvroField[] }).fields ?? [];
  const kind = (t: unknown) => (typeof t === 'string' ? t : (t as { type?: string } | null)?.type);
  return fields.filter((f) => (Array.isArray(f.type) ? f.type : [f.type]).some((b) => kind(b) === 'double' || kind(b) === 'float')).map((f) => f.name);
}

export function finiteNumbersRule(fields: string[]): LakeRule {
  return (value) => {
    const bad = fields.filter((f) => typeof value[f] === 'number' && !Number.isFinite(value[f]));
    return bad.length ? bad.map((f) => `${f} is ${String(value[f])}, not a finite number`).join('; ') : null;
  };
}

const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f]/;
const MAX_ID_LENGTH = 128;

function identifierProblem(field: string, v: unknown): string | null {
  if (typeof v !== 'string') return `${field} is ${describe(v)}, not a string`;
  const quoted = JSON.stringify(v);
  if (v.length === 0) return `${field} is empty`;
  if (v.length > MAX_ID_LENGTH) return `${field} has ${v.length} characters (at most ${MAX_ID_LENGTH})`;
  if (CONTROL_CHARACTER.test(v)) return `${field} ${quoted} has a control character`;
  if (v.trim() !== v) return `${field} ${quoted} has leading or trailing spaces`;
  return null;
}

export const billingEventRules: LakeRule[] = [
  (value) => identifierProblem('event_id', value.event_id),
  (value) => identifierProblem('user_id', value.user_id),
  (value) => {
    const negative = (['call_duration_s', 'data_mb'] as const).filter((f) => typeof value[f] === 'number' && (value[f] as number) < 0);
    return negative.length ? negative.map((f) => `${f} is ${value[f]}, below 0`).join('; ') : null;
  },
  (value) => {
    const { amount, currency } = value;
    if (currency != null && (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))) return `currency ${JSON.stringify(currency)} is not an ISO 4217 code (three capital letters)`;
    if (amount != null && currency == null) return 'amount is set without a currency';
    return null;
  },
];

/** Every rule's problem with a record, joined; null when it passes. A rule that throws is this record's problem too. */
export function checkRecord(rules: LakeRule[], value: Record<string, unknown>, ctx: RecordContext): string | null {
  const problems: string[] = [];
  for (const rule of rules) {
    try {
      const p = rule(value, ctx);
      if (p) problems.push(p);
    } catch (err) {
      problems.push(`a lake rule failed on this record: ${(err as Error).message}`);
    }
  }
  return problems.length ? problems.join('; ') : null;
}
