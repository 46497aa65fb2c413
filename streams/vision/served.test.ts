// vision-qc as the CLI serves it (streams/processors.ts): a ServedProcessor with one model slot and
// a worker pool. Built from the committed directory it is exactly visionQc(visionModelSpec()); a
// model set built from a second version's directory starts a new pool (its threads load the new
// graph before the swap) and takes over between two batches; the old pool is closed once no batch
// holds it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TOPICS } from '../../schemas/topics.ts';
import type { QcResult } from '../../schemas/generated/types.ts';
import { PROCESSORS } from '../processors.ts';
import { MODEL_HEADER } from '../runtime/models.ts';
import { describeTopology } from '../runtime/processor.ts';
import { committedDirs } from '../runtime/served-processor.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { DEFAULT_VISION_MODEL_DIR, VISION_META_FILE, VISION_MODEL_FILE, visionModelSpec } from './model.ts';
import { boardJpeg, frame } from './test-frames.ts';
import { visionQc, visionQcOptionsFromEnv } from './topology.ts';

test('vision-qc swaps its worker pool to a new model version between two batches', { timeout: 120_000 }, async () => {
  const served = await PROCESSORS['vision-qc'].load();
  const spec = visionModelSpec();
  assert.deepEqual(served.slots, [{ name: spec.name, committedDir: DEFAULT_VISION_MODEL_DIR }]);
  assert.deepEqual(describeTopology(served.build(committedDirs(served))), describeTopology(visionQc(spec, visionQcOptionsFromEnv())));

  const tmp = mkdtempSync(join(tmpdir(), 'vision-swap-'));
  const v2 = `${spec.version}-swap-test`;
  copyFileSync(join(DEFAULT_VISION_MODEL_DIR, VISION_MODEL_FILE), join(tmp, VISION_MODEL_FILE));
  const meta = JSON.parse(readFileSync(join(DEFAULT_VISION_MODEL_DIR, VISION_META_FILE), 'utf8')) as Record<string, unknown>;
  writeFileSync(join(tmp, VISION_META_FILE), JSON.stringify({ ...meta, model_version: v2 }));

  const driver = new ProcessorTestDriver(served, { workers: { threads: 1, ortThreads: 1 } });
  try {
    const score = async (id: string, seed: number) => {
      const f = frame('cam-swap', id, await boardJpeg(640, 640, seed));
      await driver.pipe(TOPICS.cameraFrames, f.camera_id, f);
      await driver.run();
      return (await driver.outputs<QcResult>(TOPICS.qcResults)).find((r) => r.value.frame_id === id)!;
    };
    const before = await score('swap-1', 1);
    assert.deepEqual([before.headers[MODEL_HEADER], before.value.model_version], [`${spec.name}@${spec.version}`, spec.version]);
    const oldPool = driver.servingSet!.pool!;

    const next = await driver.swapModels({ [spec.name]: tmp });
    assert.ok(next.pool && next.pool !== oldPool, 'the new set has a pool of its own, started before the swap');
    const after = await score('swap-2', 1);
    assert.deepEqual([after.headers[MODEL_HEADER], after.value.model_version], [`${spec.name}@${v2}`, v2]);
    assert.equal(after.value.defect_probability, before.value.defect_probability, 'the same graph scores the same board the same way');
    // The old pool was closed when its last batch let go of it: it takes no more jobs.
    await assert.rejects(oldPool.run({ input: {}, bytes: 1 }), /worker pool is closed/);
  } finally {
    await driver.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
