// A plant's history as the trainer reads it (models/maintenance/plant_data.py): what the plant sent —
// readings from its own files through its gateway mapping, or from the readings topic — checked
// against its profile exactly as the stream checks them, plus its failure events or, for histories
// cut short before failure (C-MAPSS test files), the remaining life at each arm's last reading.
// Files are written as *.tmp and renamed, so a crash never leaves a half file that looks whole.
// A kept reading is held as its CSV line in off-heap buffers and its event time only, and
// readings.csv.gz is streamed: 5.2 M readings (60 arms, 20 days) needed a 5.3 GB RSS as objects and
// one joined string (and over 1 GB of heap as line strings), and ran `plant train --from-topic` out
// of Node's 4 GB heap (loadtest/plant-export-memory.ts).
import { createHash } from 'node:crypto';
import { createWriteStream, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { createGzip, gunzipSync } from 'node:zlib';
import type { FailureEvent, SensorReading } from '../../schemas/generated/types.ts';
import type { PlantProfile } from '../../schemas/factory/plant-profile.ts';
import { rulesOf } from '../../schemas/factory/plant-registry.ts';
import { channelOf, validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import type { SourceItem } from '../gateway/sources.ts';

export const HISTORY_COLUMNS = ['arm_id', 'sensor', 'channel', 'value', 'unit', 'event_time', 'gateway_id', 'plant_id', 'sequence', 'settings'] as const;

export interface HistoryOptions {
  profile: PlantProfile;
  /** The profile file as read (its sha256 goes into meta.json: which profile the model was trained with). */
  profileText: string;
  out: string;
  /** Where the readings came from, for meta.json. */
  source: string;
  /** Prepended to every arm id: a second file of the same plant whose machines reuse the first one's numbers. */
  armPrefix?: string;
  /** The plant's failure events: from a CSV (readFailureEventsCsv) or its failure-events topic. */
  failureEvents?: HistoryEvent[];
  /** One number per line: the remaining life in samples at the last reading of the k-th arm (order of first appearance). */
  endRulFile?: string;
  progress?: (p: { read: number; kept: number; rejected: number; elapsedMs: number }) => void;
}

export interface HistorySummary {
  readings: number;
  rejected: number;
  arms: number;
  failures: number;
  maintenance: number;
  endRul: number;
  otherPlants: number;
  firstEventTime: number | null;
  lastEventTime: number | null;
}

/** Reads the source to its end, keeps the profile's valid readings in event-time order and writes the export. */
export async function exportHistory(items: AsyncIterable<SourceItem> | Iterable<SourceItem>, o: HistoryOptions): Promise<HistorySummary> {
  mkdirSync(o.out, { recursive: true });
  const rules = rulesOf(o.profile);
  const prefix = o.armPrefix ?? '';
  const rejects = createWriteStream(join(o.out, 'rejects.jsonl'));
  // The kept readings: their CSV lines and event times, in arrival order (a number[] of doubles is unboxed).
  const lines = new LineArena();
  const times: number[] = [];
  /** Arms in order of first appearance (a Set keeps insertion order): end_rul.csv's line order. */
  const arms = new Set<string>();
  const nextSequence = new Map<string, number>();
  let read = 0;
  let rejected = 0;
  let otherPlants = 0;
  const started = Date.now();
  let lastProgress = started;
  const reject = (reason: string, line: number, detail: unknown) => {
    rejected++;
    rejects.write(`${JSON.stringify({ line, reason, detail })}\n`);
  };
  for await (const item of items) {
    read++;
    if (o.progress && read % 4096 === 0 && Date.now() - lastProgress >= 2_000) {
      lastProgress = Date.now();
      o.progress({ read, kept: lines.size, rejected, elapsedMs: lastProgress - started });
    }
    if (item.kind === 'reject') {
      reject(item.reason, item.line, item.raw);
      continue;
    }
    const r = item.reading;
    const plantId = r.plant_id ?? o.profile.plant_id;
    if (plantId !== o.profile.plant_id) {
      otherPlants++;
      continue;
    }
    const arm = `${prefix}${r.arm_id}`;
    let sequence = r.sequence;
    if (sequence === null) {
      sequence = nextSequence.get(arm) ?? 0;
      nextSequence.set(arm, sequence + 1);
    }
    const reading: SensorReading = { ...r, arm_id: arm, plant_id: plantId, gateway_id: r.gateway_id ?? 'history-export', sequence };
    // A history is in the past: its record "timestamp" is now, so only a clock ahead of now is refused.
    const problem = validateReading(reading, Date.now(), rules);
    if (problem) {
      reject(problem, item.line, reading);
      continue;
    }
    arms.add(arm);
    lines.push(csvLine(reading));
    times.push(reading.event_time);
  }
  rejects.end();
  await finished(rejects);
  // Stable: readings of one instant keep their source order.
  const order = Uint32Array.from({ length: lines.size }, (_, i) => i).sort((a, b) => times[a] - times[b] || a - b);
  await writeReadingsGz(join(o.out, 'readings.csv.gz'), lines, order);
  const events = o.failureEvents ? writeEvents(o.out, o.failureEvents, prefix) : null;
  const endRul = o.endRulFile ? endRulRows(o.endRulFile, [...arms]) : null;
  if (endRul) writeAtomically(join(o.out, 'end_rul.csv'), `arm_id,rul_samples\n${endRul.join('\n')}\n`);
  writeAtomically(join(o.out, 'profile.json'), o.profileText);
  const summary: HistorySummary = {
    readings: lines.size, rejected, arms: arms.size, failures: events?.failures ?? 0, maintenance: events?.maintenance ?? 0, endRul: endRul?.length ?? 0, otherPlants,
    firstEventTime: order.length ? times[order[0]] : null, lastEventTime: order.length ? times[order[order.length - 1]] : null,
  };
  const meta = {
    plant_id: o.profile.plant_id,
    profile_sha256: createHash('sha256').update(o.profileText).digest('hex'),
    source: o.source,
    arm_prefix: prefix,
    exported_at: new Date().toISOString(),
    channels: o.profile.channels.map((c) => c.name),
    operating_settings: (o.profile.operating_settings ?? []).map((s) => s.name),
    counts: summary,
    files: {
      'readings.csv.gz': `${HISTORY_COLUMNS.join(',')}; event_time epoch ms; event-time order; channel = the profile's channel; settings = the operating settings joined by ';' (empty when none); every row valid under the profile`,
      'rejects.jsonl': 'the rows and readings left out, each with its reason',
      ...(events ? { 'failures.csv': 'arm_id,failure_time,mode,repaired_at: the FAILURE events (the labels), epoch ms, arm ids with the prefix' } : {}),
      ...(events?.maintenance ? { 'maintenance.csv': 'the same columns for MAINTENANCE stops: downtime, not failures (not used as labels)' } : {}),
      ...(endRul ? { 'end_rul.csv': 'arm_id,rul_samples: remaining life in samples at each arm\'s last reading' } : {}),
      'profile.json': 'the profile the export was checked with',
    },
  };
  writeAtomically(join(o.out, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return summary;
}

function csvLine(r: SensorReading): string {
  return `${r.arm_id},${r.sensor},${channelOf(r)},${r.value},${r.unit},${r.event_time},${r.gateway_id},${r.plant_id},${r.sequence},${(r.settings ?? []).join(';')}`;
}

const ARENA_CHUNK = 16 * 2 ** 20;

/** Lines as UTF-8 in 16 MiB buffers, outside the JS heap, each found by its chunk, start and length. */
class LineArena {
  private readonly chunks: Buffer[] = [];
  private used = ARENA_CHUNK;
  private readonly chunkOf: number[] = [];
  private readonly startOf: number[] = [];
  private readonly lengthOf: number[] = [];

  get size(): number {
    return this.chunkOf.length;
  }

  push(line: string): void {
    const bytes = Buffer.byteLength(line);
    if (this.used + bytes > ARENA_CHUNK) {
      this.chunks.push(Buffer.allocUnsafe(Math.max(ARENA_CHUNK, bytes)));
      this.used = 0;
    }
    this.chunks[this.chunks.length - 1].write(line, this.used);
    this.chunkOf.push(this.chunks.length - 1);
    this.startOf.push(this.used);
    this.lengthOf.push(bytes);
    this.used += bytes;
  }

  /** Lines order[from..to) each followed by a newline, as one buffer. */
  joined(order: Uint32Array, from: number, to: number): Buffer {
    let total = 0;
    for (let i = from; i < to; i++) total += this.lengthOf[order[i]] + 1;
    const out = Buffer.allocUnsafe(total);
    let at = 0;
    for (let i = from; i < to; i++) {
      const k = order[i];
      at += this.chunks[this.chunkOf[k]].copy(out, at, this.startOf[k], this.startOf[k] + this.lengthOf[k]);
      out[at++] = 0x0a;
    }
    return out;
  }
}

/** The header and `lines` in `order`, gzipped, streamed to path.tmp (a few thousand lines a write) and renamed. */
async function writeReadingsGz(path: string, lines: LineArena, order: Uint32Array): Promise<void> {
  const file = createWriteStream(`${path}.tmp`);
  const gzip = createGzip();
  gzip.pipe(file);
  const write = async (chunk: string | Buffer) => {
    if (!gzip.write(chunk)) await once(gzip, 'drain');
  };
  await write(`${HISTORY_COLUMNS.join(',')}\n`);
  for (let at = 0; at < order.length; at += 4096) await write(lines.joined(order, at, Math.min(order.length, at + 4096)));
  gzip.end();
  await finished(file);
  renameSync(`${path}.tmp`, path);
}

/** A small text file, gzipped (by its magic bytes, as the gateway reads files) or not. */
function readText(path: string): string {
  const bytes = readFileSync(path);
  return (bytes[0] === 0x1f && bytes[1] === 0x8b ? gunzipSync(bytes) : bytes).toString('utf8');
}

function writeAtomically(path: string, data: string | Buffer): void {
  writeFileSync(`${path}.tmp`, data);
  renameSync(`${path}.tmp`, path);
}

/** A failure event as the export keeps it (FailureEvent without plant and source). */
export type HistoryEvent = Pick<FailureEvent, 'arm_id' | 'kind' | 'failure_time' | 'mode' | 'repaired_at'>;

const EVENT_COLUMNS = ['arm_id', 'failure_time', 'mode', 'repaired_at', 'kind'];

/**
 * The failures CSV (arm_id, failure_time, mode, repaired_at, and an optional kind: FAILURE, the
 * default, or MAINTENANCE), times as epoch ms or ISO 8601; throws naming the bad lines.
 */
export function readFailureEventsCsv(path: string): HistoryEvent[] {
  const [header, ...lines] = readText(path).split(/\r?\n/).filter((l) => l.trim());
  const cols = (header ?? '').split(',').map((c) => c.trim());
  const at = Object.fromEntries(EVENT_COLUMNS.map((c) => [c, cols.indexOf(c)]));
  if (at.arm_id < 0 || at.failure_time < 0) throw new Error(`${path}: the header must name arm_id and failure_time (got ${header ?? 'nothing'})`);
  const problems: string[] = [];
  const time = (v: string | undefined) => (v === undefined || v === '' ? null : /^\d+$/.test(v) ? Number(v) : Date.parse(v));
  const events = lines.map((line, i): HistoryEvent => {
    const f = line.split(',').map((x) => x.trim());
    const t = time(f[at.failure_time]);
    const repaired = at.repaired_at >= 0 ? time(f[at.repaired_at]) : null;
    const kind = at.kind >= 0 && f[at.kind] ? f[at.kind].toUpperCase() : 'FAILURE';
    if (!f[at.arm_id]) problems.push(`line ${i + 2}: no arm_id`);
    if (t === null || !Number.isFinite(t)) problems.push(`line ${i + 2}: failure_time ${JSON.stringify(f[at.failure_time] ?? '')} is not epoch ms or ISO 8601`);
    if (repaired !== null && !Number.isFinite(repaired)) problems.push(`line ${i + 2}: repaired_at ${JSON.stringify(f[at.repaired_at])} is not a time`);
    if (kind !== 'FAILURE' && kind !== 'MAINTENANCE') problems.push(`line ${i + 2}: kind ${JSON.stringify(f[at.kind])} is not FAILURE or MAINTENANCE`);
    return { arm_id: f[at.arm_id], kind: kind as HistoryEvent['kind'], failure_time: t ?? NaN, mode: at.mode >= 0 && f[at.mode] ? f[at.mode] : null, repaired_at: repaired };
  });
  if (problems.length) throw new Error(`${path}:\n  ${problems.slice(0, 20).join('\n  ')}`);
  return events;
}

/** failures.csv (the labels) and maintenance.csv (planned stops, not labels) of the export. */
function writeEvents(out: string, events: HistoryEvent[], prefix: string): { failures: number; maintenance: number } {
  const rows = (kind: HistoryEvent['kind']) => events.filter((e) => e.kind === kind).sort((a, b) => a.failure_time - b.failure_time)
    .map((e) => `${prefix}${e.arm_id},${e.failure_time},${e.mode ?? ''},${e.repaired_at ?? ''}\n`).join('');
  const failures = rows('FAILURE');
  const maintenance = rows('MAINTENANCE');
  writeAtomically(join(out, 'failures.csv'), `arm_id,failure_time,mode,repaired_at\n${failures}`);
  if (maintenance) writeAtomically(join(out, 'maintenance.csv'), `arm_id,failure_time,mode,repaired_at\n${maintenance}`);
  return { failures: events.filter((e) => e.kind === 'FAILURE').length, maintenance: events.filter((e) => e.kind === 'MAINTENANCE').length };
}

/** end_rul rows: line k of the file belongs to the k-th arm in order of first appearance. */
function endRulRows(path: string, arms: string[]): string[] {
  const values = readText(path).split(/\r?\n/).map((l) => l.trim()).filter(Boolean).map(Number);
  const bad = values.findIndex((v) => !Number.isInteger(v) || v < 0);
  if (bad >= 0) throw new Error(`${path}: line ${bad + 1} is not a whole number of samples`);
  if (values.length !== arms.length) throw new Error(`${path} has ${values.length} lines, the readings have ${arms.length} arms: line k must be the remaining life of the k-th arm`);
  return arms.map((arm, i) => `${arm},${values[i]}`);
}
