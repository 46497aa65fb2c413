// Column mappings: how a plant's CSV / whitespace file becomes SensorReadings, as data (a JSON file per
// source, connectors/mappings/*.json), so a new plant is onboarded by writing a file, not code.
// docs/gateway.md describes every field with an example; `parseMapping` checks a mapping once, up
// front, and names every problem.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { SensorKind } from '../../schemas/generated/types.ts';
import { SENSOR_LIMITS } from '../../schemas/factory/sensor-reading-rules.ts';
import type { PlantProfile } from '../../schemas/factory/plant-profile.ts';
import type { PlantRegistry } from '../../schemas/factory/plant-registry.ts';

/**
 * One wide column -> one reading. Either a legacy `sensor` kind (converted to its unit by
 * from_unit or scale/offset), or a profile `channel` with the `unit` it is reported in (after an
 * optional scale/offset): such a reading is sent as sensor OTHER with the channel's name.
 */
export interface SensorColumn {
  sensor?: SensorKind;
  channel?: string;
  /** A channel's unit as sent (its plant profile must declare the same). */
  unit?: string;
  column: string;
  /** Unit of the source column (e.g. degR, psia): converted to the sensor kind's unit. */
  from_unit?: string;
  /** Explicit linear conversion `value * scale + offset` (instead of from_unit). */
  scale?: number;
  offset?: number;
}

export type EventTimeSpec =
  | { column: string; format: 'iso' | 'epoch_ms' | 'epoch_s'; utc_offset?: string }
  | { cycle: string; cycle_ms: number; start: string; first_cycle?: number };

export interface Mapping {
  name: string;
  description?: string;
  source: { format: 'csv' | 'whitespace'; header: boolean; delimiter?: string; columns?: string[] };
  /** Template over columns: `cmapss-FD001-{unit}`, `{arm_id}`, `m{machineID:03}`. */
  arm_id: string;
  event_time: EventTimeSpec;
  /** Wide rows: one reading per listed column. */
  readings?: SensorColumn[];
  /** Long rows: one reading per row, sensor kind (or channel name) / value / unit taken from these columns as they are. */
  long?: { sensor?: string; channel?: string; value: string; unit: string };
  /** The operating settings of each row (e.g. altitude, Mach, throttle), in the plant profile's order. */
  settings?: { name: string; column: string }[];
  /** The plant profile (connectors/plants/) this mapping feeds: its channels, units and settings are checked against it. */
  profile?: string;
  /** 'auto': the gateway numbers each arm's readings 0, 1, ... in send order; or a column. */
  sequence?: 'auto' | { column: string };
  gateway_id?: string;
  plant_id?: string;
  quality?: { column: string };
  /** Load the whole file and replay it in event-time order (files whose rows are grouped by machine). */
  sort_by_time?: boolean;
  notes?: string;
}

/** Conversions to the unit each sensor kind is reported in (SENSOR_LIMITS): value * scale + offset. */
export const UNIT_CONVERSIONS: Record<string, { kind: SensorKind; scale: number; offset: number }> = {
  'mm/s': { kind: 'VIBRATION', scale: 1, offset: 0 },
  'in/s': { kind: 'VIBRATION', scale: 25.4, offset: 0 },
  'm/s': { kind: 'VIBRATION', scale: 1000, offset: 0 },
  degC: { kind: 'TEMPERATURE', scale: 1, offset: 0 },
  K: { kind: 'TEMPERATURE', scale: 1, offset: -273.15 },
  degF: { kind: 'TEMPERATURE', scale: 5 / 9, offset: (-32 * 5) / 9 },
  degR: { kind: 'TEMPERATURE', scale: 5 / 9, offset: -273.15 },
  bar: { kind: 'PRESSURE', scale: 1, offset: 0 },
  psi: { kind: 'PRESSURE', scale: 0.0689475729, offset: 0 },
  psia: { kind: 'PRESSURE', scale: 0.0689475729, offset: 0 },
  kPa: { kind: 'PRESSURE', scale: 0.01, offset: 0 },
  MPa: { kind: 'PRESSURE', scale: 10, offset: 0 },
  Pa: { kind: 'PRESSURE', scale: 1e-5, offset: 0 },
};

export const SENSOR_KINDS = Object.keys(SENSOR_LIMITS) as SensorKind[];

/** The simulator's CSV (`streamscore simulate`): one reading per row, every field as it is. */
export const NATIVE_CSV_MAPPING: Mapping = {
  name: 'streamscore-readings',
  description: 'readings.csv(.gz) as written by `streamscore simulate`',
  source: { format: 'csv', header: true },
  arm_id: '{arm_id}',
  event_time: { column: 'event_time', format: 'epoch_ms' },
  long: { sensor: 'sensor', value: 'value', unit: 'unit' },
  sequence: { column: 'sequence' },
  gateway_id: '{gateway_id}',
  plant_id: '{plant_id}',
};

export class MappingError extends Error {
  readonly problems: string[];
  constructor(name: string, problems: string[]) {
    super(`mapping ${name}: ${problems.join('; ')}`);
    this.name = 'MappingError';
    this.problems = problems;
  }
}

const TEMPLATE_FIELD = /\{([^{}:]+)(?::(0?)(\d+))?\}/g;

/** Column names a template refers to. */
export function templateColumns(template: string): string[] {
  return [...template.matchAll(TEMPLATE_FIELD)].map((m) => m[1]);
}

/** Compiles `prefix-{col}-{num:03}` to a function of a row (cells by column name). */
export function compileTemplate(template: string): (row: Record<string, string>) => string {
  const parts: ((row: Record<string, string>) => string)[] = [];
  let last = 0;
  for (const m of template.matchAll(TEMPLATE_FIELD)) {
    const literal = template.slice(last, m.index);
    if (literal) parts.push(() => literal);
    const [, column, zero, width] = m;
    const w = width ? Number(width) : 0;
    parts.push((row) => {
      const v = (row[column] ?? '').trim();
      return w ? v.padStart(w, zero ? '0' : ' ') : v;
    });
    last = m.index! + m[0].length;
  }
  const tail = template.slice(last);
  if (tail) parts.push(() => tail);
  if (parts.length === 1) return parts[0];
  return (row) => parts.map((p) => p(row)).join('');
}

/** Checks a parsed mapping file; throws MappingError listing every problem. */
export function parseMapping(raw: unknown, name = 'mapping'): Mapping {
  const problems: string[] = [];
  const m = raw as Mapping;
  if (typeof raw !== 'object' || raw === null) throw new MappingError(name, ['must be a JSON object']);
  const label = typeof m.name === 'string' && m.name ? m.name : name;
  if (typeof m.name !== 'string' || !m.name) problems.push('name: a non-empty string is required');
  const src = m.source;
  if (!src || (src.format !== 'csv' && src.format !== 'whitespace')) problems.push('source.format must be "csv" or "whitespace"');
  if (src && typeof src.header !== 'boolean') problems.push('source.header must be true or false');
  if (src && !src.header && !(Array.isArray(src.columns) && src.columns.length > 0)) problems.push('source.columns (names of the columns) is required when the file has no header');
  if (src?.delimiter !== undefined && (src.format !== 'csv' || typeof src.delimiter !== 'string' || src.delimiter.length !== 1)) problems.push('source.delimiter must be one character (csv only)');
  if (typeof m.arm_id !== 'string' || templateColumns(m.arm_id).length === 0) problems.push('arm_id must be a template naming at least one column, e.g. "cmapss-FD001-{unit}"');

  const et = m.event_time as Record<string, unknown> | undefined;
  if (!et || typeof et !== 'object') problems.push('event_time is required');
  else if ('cycle' in et) {
    if (typeof et.cycle !== 'string') problems.push('event_time.cycle must name the cycle column');
    if (typeof et.cycle_ms !== 'number' || !(et.cycle_ms > 0)) problems.push('event_time.cycle_ms must be a positive number (ms per cycle)');
    if (typeof et.start !== 'string' || !Number.isFinite(Date.parse(et.start))) problems.push('event_time.start must be an ISO 8601 time');
    if (et.first_cycle !== undefined && typeof et.first_cycle !== 'number') problems.push('event_time.first_cycle must be a number');
  } else {
    if (typeof et.column !== 'string') problems.push('event_time needs either {column, format} or {cycle, cycle_ms, start}');
    if (!['iso', 'epoch_ms', 'epoch_s'].includes(et.format as string)) problems.push('event_time.format must be "iso", "epoch_ms" or "epoch_s"');
    if (et.utc_offset !== undefined && !/^(Z|[+-]\d{2}:\d{2})$/.test(String(et.utc_offset))) problems.push('event_time.utc_offset must be "Z" or like "+01:00"');
  }

  if (!!m.readings === !!m.long) problems.push('give either readings (wide rows) or long (one reading per row), not both or neither');
  for (const [i, r] of (m.readings ?? []).entries()) problems.push(...wideColumnProblems(r, `readings[${i}]`));
  const channels = (m.readings ?? []).map((r) => r.channel).filter((c): c is string => typeof c === 'string');
  for (const c of new Set(channels.filter((c, i) => channels.indexOf(c) !== i))) problems.push(`channel ${JSON.stringify(c)} is mapped more than once`);
  if (m.settings !== undefined && !(Array.isArray(m.settings) && m.settings.every((x) => typeof x?.name === 'string' && typeof x?.column === 'string'))) {
    problems.push('settings must be a list of {name, column}');
  }
  if (m.profile !== undefined && (typeof m.profile !== 'string' || !m.profile)) problems.push('profile must be a plant id (connectors/plants/)');
  if (m.long && !(['value', 'unit'].every((k) => typeof (m.long as Record<string, unknown>)[k] === 'string') && (typeof m.long.sensor === 'string' || typeof m.long.channel === 'string'))) {
    problems.push('long needs the column names {sensor and/or channel, value, unit}');
  }
  if (m.sequence !== undefined && m.sequence !== 'auto' && typeof m.sequence?.column !== 'string') problems.push('sequence must be "auto" or {column}');
  if (m.quality !== undefined && typeof m.quality?.column !== 'string') problems.push('quality must be {column}');
  for (const k of ['gateway_id', 'plant_id'] as const) if (m[k] !== undefined && typeof m[k] !== 'string') problems.push(`${k} must be a string (a template may name columns)`);

  // Every column named anywhere must exist when the columns are declared.
  if (src?.columns && problems.length === 0) {
    const known = new Set(src.columns);
    for (const c of referencedColumns(m)) if (!known.has(c)) problems.push(`column ${JSON.stringify(c)} is not in source.columns`);
  }
  if (problems.length) throw new MappingError(label, problems);
  return m;
}

/** Every source column the mapping reads. */
export function referencedColumns(m: Mapping): string[] {
  const cols = [...templateColumns(m.arm_id), ...templateColumns(m.gateway_id ?? ''), ...templateColumns(m.plant_id ?? '')];
  cols.push('cycle' in m.event_time ? m.event_time.cycle : m.event_time.column);
  for (const r of m.readings ?? []) cols.push(r.column);
  if (m.long) cols.push(...[m.long.sensor, m.long.channel].filter((c): c is string => c !== undefined), m.long.value, m.long.unit);
  for (const x of m.settings ?? []) cols.push(x.column);
  if (m.sequence && m.sequence !== 'auto') cols.push(m.sequence.column);
  if (m.quality) cols.push(m.quality.column);
  return [...new Set(cols)];
}

/** value * scale + offset for a wide column. */
export function conversionOf(r: SensorColumn): { scale: number; offset: number } {
  if (r.from_unit !== undefined) return UNIT_CONVERSIONS[r.from_unit];
  return { scale: r.scale ?? 1, offset: r.offset ?? 0 };
}

const CHANNEL_NAME = /^[a-z][a-z0-9_]{0,31}$/;

function wideColumnProblems(r: SensorColumn, at: string): string[] {
  const problems: string[] = [];
  if (typeof r.column !== 'string' || !r.column) problems.push(`${at}.column is required`);
  if (r.scale !== undefined && (typeof r.scale !== 'number' || !Number.isFinite(r.scale))) problems.push(`${at}.scale must be a number`);
  if (r.offset !== undefined && (typeof r.offset !== 'number' || !Number.isFinite(r.offset))) problems.push(`${at}.offset must be a number`);
  const explicit = r.scale !== undefined || r.offset !== undefined;
  if (r.channel !== undefined) {
    if (typeof r.channel !== 'string' || !CHANNEL_NAME.test(r.channel)) problems.push(`${at}.channel must be a channel name like "t50" ([a-z][a-z0-9_]*)`);
    if (r.sensor !== undefined) problems.push(`${at}: give sensor (a legacy kind) or channel (a profile's channel), not both`);
    if (r.from_unit !== undefined) problems.push(`${at}: a channel takes unit (and scale/offset), not from_unit`);
    if (typeof r.unit !== 'string' || !r.unit) problems.push(`${at}.unit (the channel's unit, as its plant profile declares it) is required`);
    return problems;
  }
  if (r.sensor === undefined || !SENSOR_KINDS.includes(r.sensor)) problems.push(`${at} needs sensor (one of ${SENSOR_KINDS.join(', ')}) or channel`);
  if (r.unit !== undefined) problems.push(`${at}.unit is for channels; a ${r.sensor ?? 'sensor'} column is converted with from_unit`);
  if (r.from_unit !== undefined && explicit) problems.push(`${at}: give from_unit or scale/offset, not both`);
  if (r.from_unit !== undefined) {
    const conv = UNIT_CONVERSIONS[r.from_unit];
    if (!conv) problems.push(`${at}.from_unit ${JSON.stringify(r.from_unit)} is unknown (known: ${Object.keys(UNIT_CONVERSIONS).join(', ')})`);
    else if (r.sensor && conv.kind !== r.sensor) problems.push(`${at}.from_unit ${r.from_unit} is not a ${r.sensor} unit`);
  }
  return problems;
}

/** Reads and checks a mapping file. */
export function loadMapping(path: string): Mapping {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new MappingError(basename(path), [(err as Error).message]);
  }
  return parseMapping(raw, basename(path));
}

/**
 * What a mapping sends that its plant's profile does not declare: channels, their units, the
 * operating settings (same names, same order) and the plant id. Empty when they agree.
 */
export function mappingProfileProblems(m: Mapping, profile: PlantProfile): string[] {
  const problems: string[] = [];
  const declared = new Map(profile.channels.map((c) => [c.name, c]));
  for (const [i, r] of (m.readings ?? []).entries()) {
    // By name, as validation looks a reading's channel up: a legacy column is the channel named after its kind.
    const name = r.channel ?? r.sensor?.toLowerCase();
    const c = name === undefined ? undefined : declared.get(name);
    if (!c) problems.push(`readings[${i}] (${name}): profile ${profile.plant_id} declares no such channel`);
    else if (r.channel === undefined && c.kind !== r.sensor) problems.push(`readings[${i}] (${name}): profile ${profile.plant_id}'s channel ${name} is not of kind ${r.sensor}`);
    else if (r.channel !== undefined && r.unit !== c.unit) problems.push(`readings[${i}] (${name}) is sent in ${r.unit}, profile ${profile.plant_id} declares ${c.unit}`);
  }
  const want = (profile.operating_settings ?? []).map((s) => s.name);
  const have = (m.settings ?? []).map((s) => s.name);
  if (want.join('\0') !== have.join('\0')) problems.push(`settings ${JSON.stringify(have)} must be the profile's operating_settings in its order: ${JSON.stringify(want)}`);
  if (m.plant_id !== undefined && templateColumns(m.plant_id).length === 0 && m.plant_id !== profile.plant_id) {
    problems.push(`plant_id ${JSON.stringify(m.plant_id)} is not the profile's ${JSON.stringify(profile.plant_id)}`);
  }
  return problems;
}

/** A mapping that names its profile must agree with it; throws MappingError naming every difference. */
export function checkMappingAgainstRegistry(m: Mapping, registry: PlantRegistry): Mapping {
  if (m.profile === undefined) return m;
  const profile = registry.profile(m.profile);
  if (!profile) throw new MappingError(m.name, [`profile ${JSON.stringify(m.profile)} is not among the plant profiles (${registry.plantIds.join(', ')})`]);
  const problems = mappingProfileProblems(m, profile);
  if (problems.length) throw new MappingError(m.name, problems);
  return m;
}
