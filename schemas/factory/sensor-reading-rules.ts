// Semantic checks on a decoded SensorReading. Avro already guarantees types; these catch what a
// broken gateway sends anyway: NaN, a value in the wrong unit, a clock far in the future. The same
// checks guard the scoring API, whose input is any JSON number, so no check may throw: every
// number (NaN, ±Infinity, 1e308, 8.64e15 + 1, -0, 1.5) gets a reason or passes, never an exception.
import type { SensorReading } from '../generated/types.ts';

/**
 * The unit each sensor kind must be reported in, and the physically plausible range in that unit.
 * Temperatures go up to 1 200 degC (a type K thermocouple's range): real sources include turbine
 * exhaust, e.g. C-MAPSS T50 at ~400-530 degC (connectors/mappings/cmapss-*.json).
 */
export const SENSOR_LIMITS: Record<SensorReading['sensor'], { unit: string; min: number; max: number }> = {
  VIBRATION: { unit: 'mm/s', min: 0, max: 200 },
  TEMPERATURE: { unit: 'degC', min: -50, max: 1_200 },
  PRESSURE: { unit: 'bar', min: 0, max: 1_000 },
};

/** A gateway clock may run ahead of the producer's; more than this and the event time is not trusted. */
export const MAX_CLOCK_SKEW_MS = 5 * 60_000;
/** Event times before this are a gateway clock that was never set. */
export const EARLIEST_EVENT_TIME = Date.UTC(2000, 0, 1);
const ARM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** The largest |ms| a JavaScript Date can hold (ECMA-262 TimeClip); `toISOString` throws beyond it. */
const MAX_DATE_MS = 8.64e15;

/**
 * An epoch-milliseconds number as text for an error message; never throws. Times a Date can hold
 * are ISO 8601, anything else (NaN, ±Infinity, |ms| > 8.64e15, not a number) is the raw number
 * with what is wrong with it.
 */
export function formatEventTime(ms: unknown): string {
  if (typeof ms !== 'number') return `${describeValue(ms)} (not a number)`;
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_DATE_MS) return `${ms} ms (not a representable time)`;
  return new Date(ms).toISOString();
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
  if (typeof v === 'bigint') return `${v}n`;
  return v === null || typeof v !== 'object' ? String(v) : Array.isArray(v) ? 'an array' : 'an object';
}

/** Returns why the reading is invalid, or null. `recordTimestamp` is the Kafka timestamp (producer clock). */
export function validateReading(r: SensorReading, recordTimestamp: number): string | null {
  if (typeof r.arm_id !== 'string' || !ARM_ID.test(r.arm_id)) return `arm_id ${describeValue(r.arm_id)} is not a valid arm id`;
  if (!Object.hasOwn(SENSOR_LIMITS, r.sensor)) return `sensor ${describeValue(r.sensor)} is not one of ${Object.keys(SENSOR_LIMITS).join(', ')}`;
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return `${r.sensor} value is ${describeValue(r.value)}`;
  const limits = SENSOR_LIMITS[r.sensor];
  if (r.unit !== limits.unit) return `${r.sensor} must be reported in ${limits.unit}, got ${describeValue(r.unit)}`;
  if (r.value < limits.min || r.value > limits.max) return `${r.sensor} value ${r.value} ${r.unit} is outside the plausible range [${limits.min}, ${limits.max}]`;
  if (typeof r.sequence !== 'number' || !Number.isSafeInteger(r.sequence)) return `sequence ${describeValue(r.sequence)} is not an integer`;
  if (r.sequence < 0) return `sequence ${r.sequence} is negative`;
  // Avro's long is an integer, so a fractional or unsafe event time never came from the wire.
  if (typeof r.event_time !== 'number' || !Number.isSafeInteger(r.event_time)) return `event_time ${formatEventTime(r.event_time)} is not an integer number of milliseconds`;
  if (r.event_time < EARLIEST_EVENT_TIME) return `event_time ${formatEventTime(r.event_time)} is before 2000`;
  if (r.event_time > recordTimestamp + MAX_CLOCK_SKEW_MS) {
    return `event_time ${formatEventTime(r.event_time)} is ${Math.round((r.event_time - recordTimestamp) / 1000)} s after the record was produced (gateway clock ahead?)`;
  }
  return null;
}
