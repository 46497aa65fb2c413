// Writes a simulation to a folder for training: readings.csv.gz (streamed through gzip, never held
// in memory), failures.csv, events.csv (every disturbance, degradation onset, failure and repair:
// the ground truth behind false alarms) and meta.json (options, seed, counts, timings).
import { once } from 'node:events';
import { createWriteStream, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { PassThrough } from 'node:stream';
import { constants, createGzip } from 'node:zlib';
import { DAY_MS, PlantSimulator, type SimEvent, type SimulatorOptions } from './plant-simulator.ts';

export const READINGS_COLUMNS = ['arm_id', 'sensor', 'value', 'unit', 'event_time', 'gateway_id', 'plant_id', 'sequence'] as const;
export const FAILURES_COLUMNS = ['arm_id', 'failure_time', 'mode', 'repaired_at'] as const;
export const EVENTS_COLUMNS = ['arm_id', 'kind', 'start', 'end', 'detail'] as const;

export interface SimulationSummary {
  readings: number;
  failures: number;
  events: number;
  seconds: number;
  rowsPerSecond: number;
}

export interface Progress {
  simulatedMs: number;
  totalMs: number;
  rows: number;
  elapsedMs: number;
}

/** Runs the simulator to the end and writes its files to `dir`; `progress` is called about every 2 s. */
export async function writeSimulation(
  dir: string,
  options: Partial<SimulatorOptions>,
  { gzipLevel = 6, progress }: { gzipLevel?: number; progress?: (p: Progress) => void } = {},
): Promise<SimulationSummary> {
  mkdirSync(dir, { recursive: true });
  const started = Date.now();
  const events: SimEvent[] = [];
  const eventsOut = createWriteStream(join(dir, 'events.csv'));
  eventsOut.write(`${EVENTS_COLUMNS.join(',')}\n`);
  let eventCount = 0;
  const sim = new PlantSimulator({
    ...options,
    onEvent: (e) => {
      eventCount++;
      events.push(e);
    },
  });
  const o = sim.options;
  if (!Number.isFinite(o.durationMs)) throw new Error('writeSimulation needs a finite duration');

  const csv = new PassThrough({ highWaterMark: 1 << 20 });
  const gzip = createGzip({ level: gzipLevel, memLevel: 9, chunkSize: 1 << 16, strategy: constants.Z_DEFAULT_STRATEGY });
  const done = pipeline(csv, gzip, createWriteStream(join(dir, 'readings.csv.gz')));
  csv.write(`${READINGS_COLUMNS.join(',')}\n`);

  let rows = 0;
  let chunk = '';
  let lastProgress = started;
  for (const r of sim.readings()) {
    chunk += `${r.arm_id},${r.sensor},${r.value},${r.unit},${r.event_time},${r.gateway_id},${r.plant_id},${r.sequence}\n`;
    if (++rows % 4096 !== 0) continue;
    if (!csv.write(chunk)) await once(csv, 'drain');
    chunk = '';
    if (events.length) flushEvents(eventsOut, events);
    const now = Date.now();
    if (progress && now - lastProgress >= 2000) {
      lastProgress = now;
      progress({ simulatedMs: r.event_time - o.start, totalMs: o.durationMs, rows, elapsedMs: now - started });
    }
  }
  csv.end(chunk);
  await done;
  flushEvents(eventsOut, events);
  eventsOut.end();
  await once(eventsOut, 'close');

  const failures = sim.failuresInRange();
  writeFileSync(join(dir, 'failures.csv'), [FAILURES_COLUMNS.join(','), ...failures.map((f) => `${f.arm_id},${f.failure_time},${f.mode},${f.repaired_at}`)].join('\n') + '\n');

  const seconds = (Date.now() - started) / 1000;
  const summary: SimulationSummary = { readings: rows, failures: failures.length, events: eventCount, seconds, rowsPerSecond: Math.round(rows / seconds) };
  const end = o.start + o.durationMs;
  const meta = {
    generator: 'streamscore plant simulator (connectors/plant-simulator.ts)',
    options: { ...o, startIso: new Date(o.start).toISOString(), endIso: new Date(end).toISOString(), days: o.durationMs / DAY_MS },
    seed: o.seed,
    arms: { count: o.arms, first: sim.arms[0]?.id, last: sim.arms[sim.arms.length - 1]?.id },
    counts: {
      readings: rows,
      failures: failures.length,
      failuresBeforeEnd: failures.filter((f) => f.failure_time < end).length,
      failuresByMode: Object.fromEntries(['bearing-wear', 'seal-leak'].map((m) => [m, failures.filter((f) => f.mode === m).length])),
      events: eventCount,
    },
    files: {
      'readings.csv.gz': `${READINGS_COLUMNS.join(',')}; event_time epoch ms; rows in event-time order (per instant: arm, then VIBRATION, TEMPERATURE, PRESSURE); sequence counts each arm's readings from 0; no rows while an arm is down for repair`,
      'failures.csv': `${FAILURES_COLUMNS.join(',')}; every failure whose degradation began before the end (failure_time may be after the end, so labels near the end are right)`,
      'events.csv': `${EVENTS_COLUMNS.join(',')}; ground truth: benign disturbances (tool-change, heavy-job, hot-afternoon, recalibration), degradation onsets, failures, repairs`,
    },
    timing: summary,
  };
  writeFileSync(join(dir, 'meta.json'), `${JSON.stringify(meta, null, 2)}\n`);
  return summary;
}

function flushEvents(out: NodeJS.WritableStream, events: SimEvent[]): void {
  out.write(events.map((e) => `${e.arm_id},${e.kind},${e.start},${e.end},${csvField(e.detail)}\n`).join(''));
  events.length = 0;
}

function csvField(s: string): string {
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
