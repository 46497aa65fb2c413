// How much heap `plant export` / `plant train` need for a history: N readings of the simulator plant
// (3 sensors per arm, one sample a minute) through exportHistory, under a heap limit, in a child
// process per run. The retraining loop's 60-arm, 20-day history (5.2 M readings) ran `plant train
// --from-topic` out of Node's 4 GB heap (loadtest/retrain-loop.ts, run 2 in docs/models.md).
//
//   node loadtest/plant-export-memory.ts [--arms 60] [--days 20] [--heap-mb 1024]
// Prints the peak RSS, the heap used after the export and whether it finished.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadPlantProfile } from '../schemas/factory/plant-profile.ts';
import type { SourceItem } from '../connectors/gateway/sources.ts';
import { exportHistory } from '../connectors/plants/history.ts';

const PROFILE_FILE = join(REPO_ROOT, 'connectors', 'plants', 'plant-simulator.json');
const { values } = parseArgs({ options: { arms: { type: 'string', default: '60' }, days: { type: 'string', default: '20' }, 'heap-mb': { type: 'string', default: '1024' }, child: { type: 'boolean' } } });
const arms = Number(values.arms);
const days = Number(values.days);

/** The plant's readings, arm by arm interleaved per minute, as the topic holds them (values in range). */
function* readings(): Generator<SourceItem> {
  const profile = loadPlantProfile(PROFILE_FILE);
  const channels = profile.channels.slice(0, 3);
  const start = Date.UTC(2026, 0, 1);
  let line = 0;
  for (let minute = 0; minute < days * 1440; minute++) {
    for (let a = 0; a < arms; a++) {
      for (const c of channels) {
        const [lo, hi] = [c.min, c.max];
        yield { kind: 'reading', line: line++, reading: { arm_id: `arm-${String(a).padStart(3, '0')}`, sensor: c.kind ?? 'OTHER', channel: c.name, value: lo + ((minute + a) % 97) / 97 * (hi - lo), unit: c.unit, event_time: start + minute * 60_000, gateway_id: 'gw-1', plant_id: profile.plant_id, sequence: minute, quality: null, settings: [] } };
      }
    }
  }
}

if (values.child) {
  const out = mkdtempSync(join(tmpdir(), 'plant-export-memory-'));
  try {
    const started = Date.now();
    const summary = await exportHistory(readings(), { profile: loadPlantProfile(PROFILE_FILE), profileText: readFileSync(PROFILE_FILE, 'utf8'), out, source: 'synthetic' });
    process.stdout.write(`${JSON.stringify({ readings: summary.readings, rejected: summary.rejected, seconds: (Date.now() - started) / 1000, heapUsedMb: Math.round(process.memoryUsage().heapUsed / 2 ** 20), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) })}\n`);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
} else {
  const child = spawnSync(process.execPath, [`--max-old-space-size=${values['heap-mb']}`, new URL(import.meta.url).pathname, '--child', '--arms', String(arms), '--days', String(days)], { encoding: 'utf8' });
  const result = child.stdout.trim() ? JSON.parse(child.stdout.trim()) : null;
  console.log(JSON.stringify({ arms, days, readings: arms * days * 1440 * 3, heapLimitMb: Number(values['heap-mb']), finished: child.status === 0, exit: child.status ?? child.signal, result, error: child.status === 0 ? undefined : child.stderr.split('\n').filter((l) => /heap|memory|Error/i.test(l)).slice(0, 2).join(' | ') }));
}
