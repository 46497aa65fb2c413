// Issue #12 acceptance 2, and the shadow in the driver: the maintenance scorer with a challenger of
// its default plant model beside the champion (the same trees under another model_version, so any
// difference comes from the routing, never from the model).
//   canary 10 % over 1,000 arms: the arms the challenger scored are exactly those whose key hashes
//     into the canary, and the champion scored exactly the others (both directions, no arm in both);
//   shadow: the live topics carry the champion's outputs only, the .shadow topics the challenger's,
//     one for one (same sources), scored on the shadow's own state with the same results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlantSimulator } from '../../connectors/plant-simulator.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { MaintenancePrediction } from '../../schemas/generated/types.ts';
import { SOURCE_HEADER } from '../runtime/batch.ts';
import { MODEL_HEADER } from '../runtime/models.ts';
import { ROLE_HEADER, inCanary, shadowSpec } from '../runtime/rollout/rollout-state.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from './model.ts';
import { servedMaintenanceScorer } from './served.ts';
import { writeModelVersion } from './test-model-version.ts';

const START = Date.UTC(2026, 0, 5);
const CHAMPION = failureModelDeclaration().version;

async function withChallengerDir<T>(work: (o: { dir: string; version: string; slot: string }) => Promise<T>): Promise<T> {
  const tmp = mkdtempSync(join(tmpdir(), 'rollout-'));
  try {
    const version = `${CHAMPION}-challenger`;
    writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v2'), version);
    return await work({ dir: join(tmp, 'v2'), version, slot: failureModelDeclaration().name });
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** The simulator's readings, one driver run (chunk) per `chunkMinutes` of event time. */
async function feed(driver: ProcessorTestDriver, arms: number, minutes: number, chunkMinutes = minutes): Promise<void> {
  const sim = new PlantSimulator({ arms, seed: 11, start: START, intervalMs: 60_000, durationMs: minutes * 60_000 });
  const readings = [...sim.readings()];
  for (let from = START; from < START + minutes * 60_000; from += chunkMinutes * 60_000) {
    const chunk = readings.filter((r) => r.event_time >= from && r.event_time < from + chunkMinutes * 60_000);
    if (chunk.length === 0) continue;
    for (const r of chunk) await driver.pipe(TOPICS.sensorReadingsValidated, r.arm_id, r, { timestamp: r.event_time, partition: 0 });
    driver.clock = chunk[chunk.length - 1].event_time;
    await driver.run();
  }
}

test('a 10 % canary over 1,000 arms: the challenger serves exactly the arms hashed in, the champion exactly the others', { timeout: 90_000 }, async (t) => {
  await withChallengerDir(async ({ dir, version, slot }) => {
    const driver = new ProcessorTestDriver(servedMaintenanceScorer(), { startTime: START });
    try {
      const salt = '7';
      await driver.startRollout(slot, dir, { stage: 'canary', fraction: 0.1, salt });
      const started = performance.now();
      await feed(driver, 1_000, 3);
      const predictions = await driver.outputs<MaintenancePrediction>(TOPICS.maintenancePredictions);
      const byArm = new Map<string, Set<string>>();
      for (const p of predictions) {
        const versions = byArm.get(p.key!) ?? new Set<string>();
        versions.add(p.value.model_version);
        byArm.set(p.key!, versions);
        assert.equal(p.headers[ROLE_HEADER], p.value.model_version === version ? 'canary' : undefined, 'canary outputs, and only they, say so');
        assert.equal(p.headers[MODEL_HEADER], `${slot}@${p.value.model_version}`);
      }
      assert.equal(byArm.size, 1_000, 'every arm is scored');
      const hashedIn = [...byArm.keys()].filter((arm) => inCanary(salt, arm, 0.1));
      const servedByChallenger = [...byArm].filter(([, v]) => v.has(version)).map(([arm]) => arm);
      const servedByChampion = [...byArm].filter(([, v]) => v.has(CHAMPION)).map(([arm]) => arm);
      t.diagnostic(`1,000 arms, ${predictions.length} predictions in ${(performance.now() - started).toFixed(0)} ms; ${hashedIn.length} arms hashed in, ${servedByChallenger.length} served by the challenger, ${servedByChampion.length} by the champion`);
      assert.deepEqual(servedByChallenger.sort(), hashedIn.sort(), 'the challenger served exactly the hashed arms');
      assert.deepEqual(servedByChampion.sort(), [...byArm.keys()].filter((arm) => !inCanary(salt, arm, 0.1)).sort(), 'the champion served exactly the others');
      assert.ok([...byArm.values()].every((v) => v.size === 1), 'no arm is served by both');
      assert.ok(hashedIn.length > 70 && hashedIn.length < 130, `about 10 % hashed in (${hashedIn.length}; binomial sd 9.5)`);
      const report = driver.rolloutChunks.at(-1)!;
      assert.equal(report.challengerSample.records + report.champion.records, 1_000 * 3 * 3, 'every reading went to exactly one arm');
    } finally {
      await driver.close();
    }
  });
});

test('a shadow: live topics carry the champion only, .shadow topics the challenger one for one, on its own state', { timeout: 60_000 }, async (t) => {
  await withChallengerDir(async ({ dir, version, slot }) => {
    const driver = new ProcessorTestDriver(servedMaintenanceScorer(), { startTime: START });
    try {
      await driver.startRollout(slot, dir, { stage: 'shadow' });
      await feed(driver, 20, 120, 5);
      const live = await driver.outputs<MaintenancePrediction>(TOPICS.maintenancePredictions);
      const shadow = await driver.outputs<MaintenancePrediction>(shadowSpec(TOPICS.maintenancePredictions));
      const liveAlerts = await driver.outputs(TOPICS.maintenanceAlerts);
      const shadowAlerts = await driver.outputs(shadowSpec(TOPICS.maintenanceAlerts));
      t.diagnostic(`live: ${live.length} predictions, ${liveAlerts.length} alerts; shadow: ${shadow.length} predictions, ${shadowAlerts.length} alerts`);
      assert.ok(live.length > 0);
      assert.ok(live.every((o) => o.value.model_version === CHAMPION && o.headers[ROLE_HEADER] === undefined), 'live predictions are the champion\'s');
      assert.ok(liveAlerts.every((o) => o.headers[MODEL_HEADER] === `${slot}@${CHAMPION}` && o.headers[ROLE_HEADER] === undefined), 'live alerts are the champion\'s');
      assert.ok(shadow.every((o) => o.value.model_version === version && o.headers[ROLE_HEADER] === 'shadow'), 'shadow predictions are the challenger\'s');
      assert.deepEqual(shadow.map((o) => o.headers[SOURCE_HEADER]), live.map((o) => o.headers[SOURCE_HEADER]), 'one shadow prediction per live prediction, same sources');
      // Same trees on separately kept windows fed the same readings: the same scores and alert transitions.
      assert.deepEqual(shadow.map((o) => o.value.failure_probability), live.map((o) => o.value.failure_probability));
      assert.equal(shadowAlerts.length, liveAlerts.length);
      const compared = driver.rolloutChunks.flatMap((r) => r.compared);
      assert.ok(compared.length >= live.length && compared.every((c) => c.agree && (c.delta ?? 0) === 0), 'every compared output agrees, delta 0');
    } finally {
      await driver.close();
    }
  });
});
