// The maintenance scorer as a ServedProcessor: built from the committed model directories it is
// exactly today's scorer (topology snapshot), and in the test driver a model set built from another
// version's directory swaps in between two batches: the batch before is scored and stamped by the
// old version, the batch after by the new one, and the drift monitors follow the new version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PlantSimulator } from '../../connectors/plant-simulator.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { MaintenancePrediction } from '../../schemas/generated/types.ts';
import { MODEL_HEADER } from '../runtime/models.ts';
import { describeTopology } from '../runtime/processor.ts';
import { committedDirs } from '../runtime/served-processor.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { ServingRefusedError } from '../runtime/serving-set.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from './model.ts';
import { servedMaintenanceScorer } from './served.ts';
import { writeModelVersion } from './test-model-version.ts';
import { maintenanceScorer } from './topology.ts';

const START = Date.UTC(2026, 0, 5);

test('built from the committed directories, the served scorer describes exactly the scorer as it was declared before', () => {
  const served = servedMaintenanceScorer();
  const committed = failureModelDeclaration();
  assert.equal(served.slots[0].name, committed.name, 'the default plant model is the first slot');
  assert.ok(served.slots.length >= 3, `one slot per plant model (slots: ${served.slots.map((s) => s.name).join(', ')})`);
  const built = served.build(committedDirs(served));
  assert.deepEqual(describeTopology(built), describeTopology(maintenanceScorer(committed)));
  assert.deepEqual(built.models?.map((m) => m.name).sort(), served.slots.map((s) => s.name).sort(), 'every slot is a declared model');
  assert.deepEqual(built.drift?.references.map((r) => r.model_name).sort(), maintenanceScorer(committed).drift?.references.map((r) => r.model_name).sort());
});

test('a model set swapped in between two batches scores and stamps every output of the next batch, never of the one before', { timeout: 60_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'served-swap-'));
  const served = servedMaintenanceScorer();
  const slot = served.slots[0].name;
  const v1 = failureModelDeclaration().version;
  const v2 = `${v1}-swap-test`;
  writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v2'), v2);
  const driver = new ProcessorTestDriver(served, { startTime: START });
  try {
    const sim = new PlantSimulator({ arms: 6, seed: 3, start: START, intervalMs: 60_000, durationMs: 40 * 60_000 });
    const readings = [...sim.readings()];
    const half = Math.floor(readings.length / 2);
    const batch = async (rs: typeof readings) => {
      for (const r of rs) await driver.pipe(TOPICS.sensorReadingsValidated, r.arm_id, r, { timestamp: r.event_time });
      driver.clock = rs[rs.length - 1].event_time;
      await driver.run();
    };
    await batch(readings.slice(0, half));
    const before = await driver.outputs<MaintenancePrediction>(TOPICS.maintenancePredictions);
    assert.ok(before.length > 0, 'the first batch is scored');
    assert.ok(before.every((o) => o.headers[MODEL_HEADER] === `${slot}@${v1}` && o.value.model_version === v1));

    const next = await driver.swapModels({ [slot]: join(tmp, 'v2') });
    assert.equal(next.id, 2);
    assert.deepEqual(driver.drift?.monitored.filter((m) => m.startsWith(`${slot}@`)).sort(), [`${slot}@${v1}`, `${slot}@${v2}`], 'the drift monitor of the new version is added, the old one kept');

    await batch(readings.slice(half));
    const after = (await driver.outputs<MaintenancePrediction>(TOPICS.maintenancePredictions)).slice(before.length);
    assert.ok(after.length > 0, 'the second batch is scored');
    assert.ok(after.every((o) => o.headers[MODEL_HEADER] === `${slot}@${v2}` && o.value.model_version === v2), 'every output after the swap names the new version');
    // Same trees: the swap changed which version is named, not how the windows were carried over.
    assert.ok(after.every((o) => o.value.failure_probability >= 0 && o.value.failure_probability <= 1));

    // Another plant's model in this slot is refused, and the set in service goes on.
    const other = served.slots.find((s) => s.name !== slot)!;
    await assert.rejects(driver.swapModels({ [slot]: other.committedDir }), (err: Error) => /expects features|hold no model of that name/.test(err.message) || err instanceof ServingRefusedError);
    assert.equal(driver.servingSet?.id, 2);
  } finally {
    await driver.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
