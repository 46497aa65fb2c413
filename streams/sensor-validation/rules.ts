// Semantic checks on a decoded SensorReading. Avro already guarantees types; these catch what a
// broken gateway sends anyway: NaN, a value in the wrong unit, a clock far in the future.
import type { SensorReading } from '../../schemas/generated/types.ts';

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
const EARLIEST_EVENT_TIME = Date.UTC(2000, 0, 1);
const ARM_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Returns why the reading is invalid, or null. `recordTimestamp` is the Kafka timestamp (producer clock). */
export function validateReading(r: SensorReading, recordTimestamp: number): string | null {
  if (!ARM_ID.test(r.arm_id)) return `arm_id ${JSON.stringify(r.arm_id)} is not a valid arm id`;
  if (!Number.isFinite(r.value)) return `${r.sensor} value is ${r.value}`;
  const limits = SENSOR_LIMITS[r.sensor];
  if (r.unit !== limits.unit) return `${r.sensor} must be reported in ${limits.unit}, got ${JSON.stringify(r.unit)}`;
  if (r.value < limits.min || r.value > limits.max) return `${r.sensor} value ${r.value} ${r.unit} is outside the plausible range [${limits.min}, ${limits.max}]`;
  if (r.sequence < 0) return `sequence ${r.sequence} is negative`;
  if (r.event_time < EARLIEST_EVENT_TIME) return `event_time ${new Date(r.event_time).toISOString()} is before 2000`;
  if (r.event_time > recordTimestamp + MAX_CLOCK_SKEW_MS) {
    return `event_time ${new Date(r.event_time).toISOString()} is ${Math.round((r.event_time - recordTimestamp) / 1000)} s after the record was produced (gateway clock ahead?)`;
  }
  return null;
}
