// Offline measurement of the drift rule (docs/models.md, "Drift"): feeds the scored feature rows of
// a simulation (models/maintenance/drift_rows.py) through the runtime's own DriftMonitor against a
// model's committed reference.json, and reports
//   - on a stable simulation: windows judged, windows with a RAISED (the false-alarm rate), and
//     which features and statistics raised;
//   - on a drifted one (--drift-start: its simulator drift's start after the simulation's start):
//     the windows from the drift's start until the first RAISED (the detection delay).
//
//   node loadtest/drift-false-alarms.ts --rows /data/stable-rows --reference models/maintenance/artifacts \
//     [--window-ms 604800000] [--step-ms 3600000] [--min-records 500] [--psi 0.2] [--psi-consecutive 2] [--ks-min-d 0.1] \
//     [--ks-alpha 0.001] [--ks-consecutive 1] [--drift-start 10d] [--json]
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../connectors/options.ts';
import { DEFAULT_DRIFT_RULE, DriftMonitor, type DriftRule } from '../streams/runtime/drift/drift-monitor.ts';
import { PREDICTION, readModelReference } from '../streams/runtime/drift/reference.ts';

const { values: a } = parseArgs({
  options: {
    rows: { type: 'string' }, reference: { type: 'string' }, 'window-ms': { type: 'string', default: '3600000' }, 'step-ms': { type: 'string' }, 'min-records': { type: 'string', default: '500' },
    psi: { type: 'string' }, 'psi-consecutive': { type: 'string' }, 'ks-min-d': { type: 'string' }, 'ks-alpha': { type: 'string' }, 'ks-consecutive': { type: 'string' },
    'drift-start': { type: 'string' }, json: { type: 'boolean' },
  },
});
if (!a.rows || !a.reference) throw new Error('usage: node loadtest/drift-false-alarms.ts --rows PREFIX --reference MODEL_DIR [options] (see the header)');
const header = JSON.parse(readFileSync(`${a.rows}.json`, 'utf8')) as { names: string[]; rows: number; t0_ms: number; sim: string };
const table = new Float32Array(readFileSync(`${a.rows}.f32`).buffer.slice(0));
const width = header.names.length + 2;
if (table.length !== header.rows * width) throw new Error(`${a.rows}.f32: ${table.length} values, expected ${header.rows} x ${width}`);
const reference = readModelReference(a.reference);
if (!reference) throw new Error(`${a.reference}: no reference.json`);
const num = (v: string | undefined, d: number) => (v === undefined ? d : Number(v));
const rule: DriftRule = {
  psiThreshold: num(a.psi, DEFAULT_DRIFT_RULE.psiThreshold), psiConsecutive: num(a['psi-consecutive'], DEFAULT_DRIFT_RULE.psiConsecutive),
  ksMinD: num(a['ks-min-d'], DEFAULT_DRIFT_RULE.ksMinD), ksAlpha: num(a['ks-alpha'], DEFAULT_DRIFT_RULE.ksAlpha), ksConsecutive: num(a['ks-consecutive'], DEFAULT_DRIFT_RULE.ksConsecutive),
};
const windowMs = Number(a['window-ms']);
const stepMs = a['step-ms'] === undefined ? windowMs : Number(a['step-ms']);
const monitor = new DriftMonitor(reference, { windowMs, stepMs, minRecords: Number(a['min-records']), reservoirSize: 1_000 }, rule);
const simStart = (JSON.parse(readFileSync(`${header.sim}/meta.json`, 'utf8')) as { options: { start: number } }).options.start;
const driftAt = a['drift-start'] === undefined ? null : simStart + parseDuration('drift-start', a['drift-start']);

let windows = 0;
let windowsRaised = 0;
let windowsAfterDrift = 0;
let firstDetection: { windows: number; hours: number; feature: string; statistic: string } | null = null;
const raisedBy = new Map<string, number>();
const maxPsi: number[] = [];
const values: Record<string, number> = {};
for (let r = 0; r < header.rows; r++) {
  const o = r * width;
  const eventTime = header.t0_ms + table[o] * 1000;
  header.names.forEach((n, i) => (values[n] = table[o + 1 + i]));
  values[PREDICTION] = table[o + width - 1];
  const report = monitor.observe(eventTime, values);
  if (!report) continue;
  // Windows that end before the drift are stable windows; a window holding drifted records counts towards detection.
  const drifted = driftAt !== null && report.windowEnd >= driftAt;
  if (!drifted) windows++;
  else windowsAfterDrift++;
  maxPsi.push(Math.max(...report.features.map((f) => f.psi)));
  const raised = report.findings.filter((f) => f.state === 'RAISED');
  if (raised.length && !drifted) windowsRaised++;
  for (const f of raised) raisedBy.set(`${f.statistic} ${f.feature}${drifted ? ' (after drift)' : ''}`, (raisedBy.get(`${f.statistic} ${f.feature}${drifted ? ' (after drift)' : ''}`) ?? 0) + 1);
  if (drifted && raised.length && !firstDetection) {
    firstDetection = { windows: windowsAfterDrift, hours: (report.windowEnd - driftAt!) / 3_600_000, feature: raised[0].feature, statistic: raised[0].statistic };
  }
}
maxPsi.sort((x, y) => x - y);
const q = (p: number) => maxPsi[Math.min(maxPsi.length - 1, Math.floor(p * maxPsi.length))];
const result = {
  rows: header.rows, model: `${reference.model_name} ${reference.model_version}`, windowMs, stepMs, minRecords: Number(a['min-records']), rule,
  stableWindows: windows, stableWindowsWithAlarm: windowsRaised, falseAlarmRate: windows ? windowsRaised / windows : NaN,
  maxPsiPerWindow: { p50: q(0.5), p90: q(0.9), p99: q(0.99), max: maxPsi.at(-1) },
  raisedBy: Object.fromEntries([...raisedBy].sort((x, y) => y[1] - x[1]).slice(0, 15)),
  ...(driftAt !== null ? { windowsAfterDrift, detection: firstDetection } : {}),
};
process.stdout.write(a.json ? `${JSON.stringify(result)}\n` : `${JSON.stringify(result, null, 2)}\n`);
