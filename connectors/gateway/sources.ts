// Where a gateway's readings come from: a mapped CSV / whitespace file (gzip detected by its magic
// bytes), JSON lines from a file or stdin, or the plant simulator live; and `paced`, which releases
// them at recorded speed, N times faster, or as fast as possible.
import { once } from 'node:events';
import { closeSync, createReadStream, openSync, readSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';
import type { SensorKind, SensorReading } from '../../schemas/generated/types.ts';
import { SENSOR_LIMITS, type LegacySensorKind } from '../../schemas/factory/sensor-reading-rules.ts';
import { PlantSimulator, type SimulatorOptions } from '../plant-simulator.ts';
import { NATIVE_CSV_MAPPING, SENSOR_KINDS, compileTemplate, conversionOf, referencedColumns, type Mapping } from './mapping.ts';

/** A reading as a source knows it; null fields are filled in by the gateway (sequence: per-arm counter). */
export type SourceReading = Omit<SensorReading, 'sequence' | 'gateway_id' | 'plant_id'> & {
  sequence: number | null;
  gateway_id: string | null;
  plant_id: string | null;
};

export type SourceItem =
  | { kind: 'reading'; reading: SourceReading; line: number }
  | { kind: 'reject'; reason: string; raw: string; line: number };

/** A file (gzip or plain, by magic bytes) or `-` for stdin, as a byte stream. */
export function openInput(path: string): Readable {
  if (path === '-') return process.stdin;
  const fd = openSync(path, 'r');
  const magic = Buffer.alloc(2);
  const n = readSync(fd, magic, 0, 2, 0);
  closeSync(fd);
  const stream = createReadStream(path, { highWaterMark: 1 << 20 });
  if (n === 2 && magic[0] === 0x1f && magic[1] === 0x8b) {
    const gunzip = createGunzip();
    stream.on('error', (err) => gunzip.destroy(err));
    return stream.pipe(gunzip);
  }
  return stream;
}

interface Row {
  cells: Record<string, string>;
  raw: string;
  line: number;
}

/** Rows of a mapped file as {column name: cell}. */
async function* readRows(input: Readable, m: Mapping): AsyncGenerator<Row> {
  if (m.source.format === 'csv') {
    const parser = input.pipe(parse({
      delimiter: m.source.delimiter ?? ',',
      columns: m.source.header ? (header: string[]) => header.map((h) => h.trim()) : m.source.columns,
      relax_column_count: true,
      skip_empty_lines: true,
      trim: true,
      raw: true,
      info: true,
    }));
    input.on('error', (err) => parser.destroy(err));
    let checked = false;
    for await (const rec of parser as AsyncIterable<{ record: Record<string, string>; raw: string; info: { lines: number } }>) {
      if (!checked) {
        checked = true;
        checkColumns(m, Object.keys(rec.record));
      }
      yield { cells: rec.record, raw: rec.raw.replace(/\r?\n$/, ''), line: rec.info.lines };
    }
    return;
  }
  let columns = m.source.header ? null : m.source.columns!;
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    const trimmed = text.trim();
    if (!trimmed) continue;
    const fields = trimmed.split(/\s+/);
    if (!columns) {
      columns = fields;
      checkColumns(m, columns);
      continue;
    }
    const cells: Record<string, string> = {};
    for (let i = 0; i < columns.length; i++) cells[columns[i]] = fields[i] ?? '';
    yield { cells, raw: text, line };
  }
}

function checkColumns(m: Mapping, present: string[]): void {
  const have = new Set(present);
  const missing = referencedColumns(m).filter((c) => !have.has(c));
  if (missing.length) throw new Error(`mapping ${m.name}: the file has no column(s) ${missing.join(', ')} (it has ${present.slice(0, 30).join(', ')})`);
}

/** Turns one row into readings (or rejects with a reason) as the mapping says. */
export function compileRowMapper(m: Mapping): (row: Row) => SourceItem[] {
  const armId = compileTemplate(m.arm_id);
  const gatewayId = m.gateway_id !== undefined ? compileTemplate(m.gateway_id) : null;
  const plantId = m.plant_id !== undefined ? compileTemplate(m.plant_id) : null;
  const eventTime = compileEventTime(m);
  const seqColumn = m.sequence && m.sequence !== 'auto' ? m.sequence.column : null;
  const qualityColumn = m.quality?.column ?? null;
  const wide = (m.readings ?? []).map((r) => ({ ...r, ...conversionOf(r), label: r.channel ?? r.sensor!, unit: r.unit ?? SENSOR_LIMITS[r.sensor as LegacySensorKind].unit }));
  const settingColumns = (m.settings ?? []).map((x) => x.column);
  return (row) => {
    const reject = (reason: string): SourceItem => ({ kind: 'reject', reason, raw: row.raw, line: row.line });
    const c = row.cells;
    const t = eventTime(c);
    if (typeof t === 'string') return [reject(t)];
    let sequence: number | null = null;
    if (seqColumn) {
      sequence = Number(c[seqColumn]);
      if (!Number.isSafeInteger(sequence)) return [reject(`${seqColumn} ${JSON.stringify(c[seqColumn])} is not an integer`)];
    }
    let settings: number[] | null = null;
    if (settingColumns.length) {
      settings = settingColumns.map((col) => parseNumber(c[col]) ?? NaN);
      const bad = settings.findIndex((x) => Number.isNaN(x));
      if (bad >= 0) return [reject(`setting ${m.settings![bad].name} (column ${settingColumns[bad]}) ${JSON.stringify(c[settingColumns[bad]] ?? '')} is not a number`)];
    }
    const quality = qualityColumn ? (['GOOD', 'UNCERTAIN', 'BAD'].includes(c[qualityColumn]) ? (c[qualityColumn] as SensorReading['quality']) : null) : null;
    const base = { arm_id: armId(c), event_time: t, gateway_id: gatewayId ? gatewayId(c) : null, plant_id: plantId ? plantId(c) : null, quality, settings };
    const out: SourceItem[] = [];
    if (m.long) {
      const channel = m.long.channel ? c[m.long.channel] || null : null;
      const named = m.long.sensor ? c[m.long.sensor] : undefined;
      // With a channel column the sensor column may be absent or say anything else: the reading is OTHER.
      const sensor = (named !== undefined && SENSOR_KINDS.includes(named as SensorKind) ? named : channel ? 'OTHER' : named) as SensorKind;
      const value = parseNumber(c[m.long.value]);
      if (!SENSOR_KINDS.includes(sensor) && sensor !== 'OTHER') out.push(reject(`sensor ${JSON.stringify(named)} is not one of ${SENSOR_KINDS.join(', ')}, and the row names no channel`));
      else if (value === null) out.push(reject(`${m.long.value} ${JSON.stringify(c[m.long.value])} is not a number`));
      else out.push({ kind: 'reading', line: row.line, reading: { ...base, sensor, channel, value, unit: c[m.long.unit], sequence } });
      return out;
    }
    for (const w of wide) {
      const v = parseNumber(c[w.column]);
      if (v === null) out.push(reject(`${w.label} column ${w.column} ${JSON.stringify(c[w.column] ?? '')} is not a number`));
      else out.push({ kind: 'reading', line: row.line, reading: { ...base, sensor: w.sensor ?? 'OTHER', channel: w.channel ?? null, value: round9(v * w.scale + w.offset), unit: w.unit, sequence } });
    }
    return out;
  };
}

/** Rounds away binary noise of the conversion (1400.6 degR is 504.9611111111 degC, not ...11112). */
function round9(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

function parseNumber(s: string | undefined): number | null {
  if (s === undefined || s.trim() === '') return null;
  const n = Number(s);
  return Number.isFinite(n) ? n : null;
}

function compileEventTime(m: Mapping): (c: Record<string, string>) => number | string {
  const et = m.event_time;
  if ('cycle' in et) {
    const start = Date.parse(et.start);
    const first = et.first_cycle ?? 1;
    return (c) => {
      const cycle = parseNumber(c[et.cycle]);
      return cycle === null ? `cycle ${JSON.stringify(c[et.cycle] ?? '')} is not a number` : Math.round(start + (cycle - first) * et.cycle_ms);
    };
  }
  const col = et.column;
  if (et.format === 'epoch_ms' || et.format === 'epoch_s') {
    const factor = et.format === 'epoch_s' ? 1000 : 1;
    return (c) => {
      const n = parseNumber(c[col]);
      return n === null ? `${col} ${JSON.stringify(c[col] ?? '')} is not an epoch time` : Math.round(n * factor);
    };
  }
  const offset = et.utc_offset ?? 'Z';
  return (c) => {
    const s = (c[col] ?? '').trim();
    // Without a zone designator the time is in utc_offset (Date.parse would take the machine's zone).
    const withZone = /(Z|[+-]\d{2}:?\d{2})$/i.test(s) ? s : `${s}${offset}`;
    const t = Date.parse(withZone.replace(' ', 'T'));
    return Number.isFinite(t) ? t : `${col} ${JSON.stringify(s)} is not an ISO 8601 time`;
  };
}

/** Readings of a mapped file, in file order or (sort_by_time) in event-time order. */
export async function* mappedSource(input: Readable, m: Mapping): AsyncGenerator<SourceItem> {
  const mapRow = compileRowMapper(m);
  if (!m.sort_by_time) {
    for await (const row of readRows(input, m)) yield* mapRow(row);
    return;
  }
  const readings: SourceItem[] = [];
  for await (const row of readRows(input, m)) {
    for (const item of mapRow(row)) {
      if (item.kind === 'reject') yield item;
      else readings.push(item);
    }
  }
  // Stable: readings of one time keep their file order.
  readings.sort((a, b) => (a as { reading: SourceReading }).reading.event_time - (b as { reading: SourceReading }).reading.event_time);
  yield* readings;
}

/** JSON lines, one SensorReading per line (`sequence`, `gateway_id`, `plant_id`, `quality`, `channel`, `settings` optional; event_time ms or ISO). */
export async function* jsonlSource(input: Readable): AsyncGenerator<SourceItem> {
  let line = 0;
  for await (const text of createInterface({ input, crlfDelay: Infinity })) {
    line++;
    if (!text.trim()) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      yield { kind: 'reject', reason: `not JSON: ${(err as Error).message}`, raw: text, line };
      continue;
    }
    const t = typeof o.event_time === 'string' ? Date.parse(o.event_time) : o.event_time;
    const problems: string[] = [];
    if (typeof o.arm_id !== 'string') problems.push('arm_id missing');
    if (!SENSOR_KINDS.includes(o.sensor as SensorKind) && o.sensor !== 'OTHER') problems.push(`sensor ${JSON.stringify(o.sensor)} is not one of ${[...SENSOR_KINDS, 'OTHER'].join(', ')}`);
    if (o.channel !== undefined && o.channel !== null && typeof o.channel !== 'string') problems.push('channel must be a string');
    if (o.settings !== undefined && o.settings !== null && !(Array.isArray(o.settings) && o.settings.every((x) => typeof x === 'number'))) problems.push('settings must be a list of numbers');
    if (typeof o.value !== 'number') problems.push('value must be a number');
    if (typeof o.unit !== 'string') problems.push('unit missing');
    if (typeof t !== 'number' || !Number.isFinite(t)) problems.push('event_time must be epoch ms or ISO 8601');
    if (o.sequence !== undefined && o.sequence !== null && !Number.isSafeInteger(o.sequence)) problems.push('sequence must be an integer');
    if (problems.length) {
      yield { kind: 'reject', reason: problems.join('; '), raw: text, line };
      continue;
    }
    yield {
      kind: 'reading',
      line,
      reading: {
        arm_id: o.arm_id as string,
        sensor: o.sensor as SensorReading['sensor'],
        value: o.value as number,
        unit: o.unit as string,
        event_time: t as number,
        gateway_id: typeof o.gateway_id === 'string' ? o.gateway_id : null,
        plant_id: typeof o.plant_id === 'string' ? o.plant_id : null,
        sequence: (o.sequence as number | undefined) ?? null,
        quality: ['GOOD', 'UNCERTAIN', 'BAD'].includes(o.quality as string) ? (o.quality as SensorReading['quality']) : null,
        channel: typeof o.channel === 'string' ? o.channel : null,
        settings: Array.isArray(o.settings) ? (o.settings as number[]) : null,
      },
    };
  }
}

/** The simulator as a live source: starts now (aligned to the interval), for `durationMs`. */
export function* simulatorSource(options: Partial<SimulatorOptions>): Generator<SourceItem> {
  const sim = new PlantSimulator(options);
  for (const r of sim.readings()) yield { kind: 'reading', reading: r, line: 0 };
}

export interface PaceOptions {
  /** 1 = recorded speed, 60 = 60x faster, Infinity = as fast as possible. */
  speed: number;
  /** Wall-clock time at which the first event time is due (default: when the first reading arrives). */
  origin?: { eventTime: number; wallTime: number };
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Ends the replay early, also in the middle of a wait. */
  signal?: AbortSignal;
}

/**
 * Releases each reading when its event time, scaled by `speed`, is due; rejects pass at once.
 * Event times that go backwards (another machine's earlier rows) are released immediately.
 */
export async function* paced(items: AsyncIterable<SourceItem> | Iterable<SourceItem>, o: PaceOptions): AsyncGenerator<SourceItem> {
  if (!(o.speed < Infinity)) {
    yield* items;
    return;
  }
  const now = o.now ?? Date.now;
  const sleep = o.sleep ?? ((ms: number) => delay(ms, undefined, { signal: o.signal }).catch(() => {}));
  let origin = o.origin;
  for await (const item of items) {
    if (o.signal?.aborted) return;
    if (item.kind === 'reading') {
      origin ??= { eventTime: item.reading.event_time, wallTime: now() };
      const due = origin.wallTime + (item.reading.event_time - origin.eventTime) / o.speed;
      const wait = due - now();
      if (wait > 2) await sleep(wait);
      if (o.signal?.aborted) return;
    }
    yield item;
  }
}

/**
 * The source for a file: with a mapping, the mapped rows; without, JSON lines (`-`, *.jsonl, *.ndjson)
 * or the simulator's CSV (*.csv: arm_id,sensor,value,unit,event_time,...), gzipped or not.
 */
export function fileSource(path: string, mapping?: Mapping): AsyncGenerator<SourceItem> {
  const name = path.replace(/\.gz$/, '');
  if (mapping) return mappedSource(openInput(path), mapping);
  if (path === '-' || /\.(jsonl|ndjson|json)$/.test(name)) return jsonlSource(openInput(path));
  if (name.endsWith('.csv')) return mappedSource(openInput(path), NATIVE_CSV_MAPPING);
  throw new Error(`${path}: give --mapping FILE.json for this file (without one, only JSON lines and the simulator's readings.csv are known)`);
}

/** Waits for `stream` to finish writing (for rejects files). */
export async function endStream(stream: NodeJS.WritableStream): Promise<void> {
  stream.end();
  await once(stream, 'finish');
}
