// Semantic checks on a decoded SensorReading. Avro already guarantees types; these catch what a
// broken gateway sends anyway: NaN, a value in the wrong unit, a clock far in the future. The same
// checks guard the scoring API, whose input is any JSON number, so no check may throw: every
// number (NaN, ±Infinity, 1e308, 8.64e15 + 1, -0, 1.5) gets a reason or passes, never an exception.
import type { SensorReading } from '../generated/types.ts';

/** The three kinds that predate plant profiles; OTHER readings name their channel instead. */
export type LegacySensorKind = Exclude<SensorReading['sensor'], 'OTHER'>;
export interface ChannelLimits {
  unit: string;
  min: number;
  max: number;
}

/** What a plant's profile says its readings must be (schemas/factory/plant-registry.ts builds it). */
export interface PlantReadingRules {
  plantId: string;
  /** By channel name; `kind` for the channels that are one of the legacy kinds. */
  channels: ReadonlyMap<string, ChannelLimits & { kind?: LegacySensorKind }>;
  /** How many operating settings a reading carries, in the profile's order. */
  settings: number;
  /** The plant normalises channels by operating regime, so every reading must carry its settings. */
  settingsRequired: boolean;
}

/**
 * The unit each sensor kind must be reported in, and the physically plausible range in that unit.
 * Temperatures go up to 1 200 degC (a type K thermocouple's range): real sources include turbine
 * exhaust, e.g. C-MAPSS T50 at ~400-530 degC (connectors/mappings/cmapss-*.json).
 */
export const SENSOR_LIMITS: Record<LegacySensorKind, ChannelLimits> = {
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

/**
 * The channel a reading is of: its `channel`, else (every v1 reading) its legacy sensor kind in
 * lower case; null for an OTHER reading that names none.
 */
export function channelOf(r: Pick<SensorReading, 'sensor' | 'channel'>): string | null {
  if (typeof r.channel === 'string') return r.channel;
  return r.sensor === 'OTHER' || typeof r.sensor !== 'string' ? null : r.sensor.toLowerCase();
}

function isLegacyKind(sensor: unknown): sensor is LegacySensorKind {
  return typeof sensor === 'string' && Object.hasOwn(SENSOR_LIMITS, sensor);
}

/**
 * The unit and range a reading must keep: its plant's profile when the plant has one, else the
 * legacy kind's (a v1 reading, or a legacy channel of a plant without a profile). A string is why
 * there are none.
 */
function limitsFor(r: SensorReading, channel: string | null, plant: PlantReadingRules | null | undefined): ChannelLimits | string {
  if (r.sensor !== 'OTHER' && !isLegacyKind(r.sensor)) return `sensor ${describeValue(r.sensor)} is not one of ${[...Object.keys(SENSOR_LIMITS), 'OTHER'].join(', ')}`;
  if (channel === null) return 'sensor OTHER needs a channel name (the channel its plant profile declares)';
  if (plant) {
    const c = plant.channels.get(channel);
    if (!c) return `plant ${plant.plantId}'s profile declares no channel ${describeValue(channel)}`;
    if (r.sensor !== 'OTHER' && c.kind !== r.sensor) return `channel ${channel} of plant ${plant.plantId} is ${c.kind ?? 'not a legacy kind (send sensor OTHER)'}, not ${r.sensor}`;
    return c;
  }
  if (isLegacyKind(r.sensor) && channel === r.sensor.toLowerCase()) return SENSOR_LIMITS[r.sensor];
  return `plant ${describeValue(r.plant_id)} has no profile declaring channel ${describeValue(channel)} (connectors/plants/)`;
}

function settingsProblem(r: SensorReading, plant: PlantReadingRules | null | undefined): string | null {
  const s: unknown = r.settings;
  if (s === null || s === undefined) {
    return plant?.settingsRequired ? `plant ${plant.plantId} normalises by operating regime and the reading has no operating settings` : null;
  }
  if (!Array.isArray(s)) return `settings is ${describeValue(s)}, not a list of numbers`;
  if (plant && s.length !== plant.settings) return `plant ${plant.plantId} has ${plant.settings} operating settings, the reading carries ${s.length}`;
  const bad = s.findIndex((x) => typeof x !== 'number' || !Number.isFinite(x));
  return bad >= 0 ? `settings[${bad}] is ${describeValue(s[bad])}` : null;
}

/**
 * Returns why the reading is invalid, or null. `recordTimestamp` is the Kafka timestamp (producer
 * clock); `plant` the rules of the reading's plant from its profile (null: no profile, so only the
 * legacy channels are known).
 */
export function validateReading(r: SensorReading, recordTimestamp: number, plant?: PlantReadingRules | null): string | null {
  if (typeof r.arm_id !== 'string' || !ARM_ID.test(r.arm_id)) return `arm_id ${describeValue(r.arm_id)} is not a valid arm id`;
  const channel = channelOf(r);
  const limits = limitsFor(r, channel, plant);
  if (typeof limits === 'string') return limits;
  const what = channel === r.sensor.toLowerCase() ? r.sensor : `channel ${channel}`;
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return `${what} value is ${describeValue(r.value)}`;
  if (r.unit !== limits.unit) return `${what} must be reported in ${limits.unit}, got ${describeValue(r.unit)}`;
  if (r.value < limits.min || r.value > limits.max) return `${what} value ${r.value} ${r.unit} is outside the plausible range [${limits.min}, ${limits.max}]`;
  const settings = settingsProblem(r, plant);
  if (settings) return settings;
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
