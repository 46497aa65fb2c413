// vision-qc in the in-memory driver: the real worker pool, the committed model and the runtime's
// decode/validate/dead-letter path, no broker. Good frames become results (keyed by camera, frame
// id in the value, model named); each bad frame becomes a dead letter with its reason while the
// rest of the batch goes on. test/integration/vision-qc.test.ts runs the same against Kafka.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import avro from 'avsc';
import sharp from 'sharp';
import { sampleQcResult } from '../../schemas/sample-records.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../../schemas/generated/types.ts';
import { describeTopology } from '../runtime/processor.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { visionModelSpec } from './model.ts';
import { DEFAULT_VISION_QC_OPTIONS, visionQc, visionQcOptionsFromEnv } from './topology.ts';
import { badFrames, boardJpeg, frame } from './test-frames.ts';

const spec = visionModelSpec();

describe('vision-qc topology', () => {
  it('declares its model, worker task and at-least-once with the reason', () => {
    const d = describeTopology(visionQc(spec));
    assert.equal(d.semantics, 'at-least-once');
    assert.match(d.semanticsReason, /frame_id/);
    assert.deepEqual(d.models.map((m) => [m.name, m.version]), [[spec.name, spec.version]]);
    assert.match(d.workers!.module, /streams\/vision\/task\.ts$/);
    assert.deepEqual([d.sources[0].topic, d.sinks[0].topic], [TOPICS.cameraFrames.name, TOPICS.qcResults.name]);
  });

  it('QcResult with heatmap_peak reads results written before it (BACKWARD), peak null', () => {
    const current = loadSchema(TOPICS.qcResults.schema) as { fields: { name: string }[] };
    const before = { ...current, fields: current.fields.filter((f) => f.name !== 'heatmap_peak') };
    const [v1, v2] = [avro.Type.forSchema(before as avro.Schema), avro.Type.forSchema(current as avro.Schema)];
    const { heatmap_peak: _, ...old } = sampleQcResult;
    const read = v2.fromBuffer(v1.toBuffer(old), v2.createResolver(v1)) as QcResult;
    assert.equal(read.heatmap_peak, null);
    assert.equal(read.frame_id, sampleQcResult.frame_id);
  });

  it('reads STREAMSCORE_VISION_HEATMAPS', () => {
    assert.equal(visionQcOptionsFromEnv({}).heatmaps, 'defect');
    assert.equal(visionQcOptionsFromEnv({ STREAMSCORE_VISION_HEATMAPS: 'all' }).heatmaps, 'all');
    assert.throws(() => visionQcOptionsFromEnv({ STREAMSCORE_VISION_HEATMAPS: 'some' }), /must be all, defect or none/);
  });
});

describe('vision-qc on the driver', () => {
  let driver: ProcessorTestDriver;
  before(() => {
    driver = new ProcessorTestDriver(visionQc(spec, { ...DEFAULT_VISION_QC_OPTIONS, heatmaps: 'all' }), { workers: { threads: 1, ortThreads: 1 } });
  });
  after(() => driver?.close());

  it('good frames -> results; every bad frame -> its reason in the DLQ, in one batch', async () => {
    const good = [frame('cam-1', 'f-1', await boardJpeg(640, 640, 1)), frame('cam-2', 'f-2', await boardJpeg(800, 600, 2))];
    const bad = await badFrames('cam-9');
    const order = [good[0], ...bad.map((b) => b.frame), good[1]];
    for (const f of order) await driver.pipe(TOPICS.cameraFrames, f.camera_id, f);
    await driver.run();

    const results = await driver.outputs<QcResult>(TOPICS.qcResults);
    assert.deepEqual(results.map((r) => [r.key, r.value.frame_id]), [['cam-1', 'f-1'], ['cam-2', 'f-2']]);
    for (const [k, r] of results.entries()) {
      const f = good[k];
      assert.equal(r.headers['streamscore-model'], `${spec.name}@${spec.version}`);
      assert.deepEqual([r.value.camera_id, r.value.captured_at, r.value.model_name, r.value.model_version], [f.camera_id, f.captured_at, spec.name, spec.version]);
      assert.equal(r.value.verdict, r.value.defect_probability >= spec.meta.threshold ? 'DEFECT' : 'PASS');
      assert.ok(r.value.latency_ms > 0);
      const overlay = await sharp(r.value.heatmap_png!).metadata();
      assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', f.width, f.height]);
      const peak = r.value.heatmap_peak;
      if (r.value.verdict === 'DEFECT') assert.ok(peak, 'a DEFECT verdict has a heatmap peak');
      if (peak) assert.ok(peak.x >= 0 && peak.x <= f.width && peak.y >= 0 && peak.y <= f.height, JSON.stringify(peak));
      for (const b of r.value.boxes) assert.ok(b.x + b.width <= f.width && b.y + b.height <= f.height && spec.meta.classes.includes(b.defect_class!));
    }

    const letters = await driver.deadLetters(TOPICS.cameraFrames);
    assert.equal(letters.length, bad.length, letters.map((l) => l.errorMessage).join('\n'));
    bad.forEach((b, k) => {
      const l = letters.find((x) => x.sourceOffset === String(k + 1));
      assert.ok(l, `${b.kind} (offset ${k + 1}) was not dead-lettered`);
      assert.deepEqual([l.stage, l.errorClass], [b.stage, b.errorClass], `${b.kind}: ${l.errorMessage}`);
      assert.match(l.errorMessage, b.reason, b.kind);
    });
  });
});

describe('heatmap policy', () => {
  for (const heatmaps of ['all', 'defect', 'none'] as const) {
    it(`${heatmaps}: overlays only where the policy says`, async () => {
      const driver = new ProcessorTestDriver(visionQc(spec, { ...DEFAULT_VISION_QC_OPTIONS, heatmaps }), { workers: { threads: 1, ortThreads: 1 } });
      try {
        const frames: CameraFrame[] = [frame('cam-1', 'p-1', await boardJpeg(640, 640, 5)), frame('cam-1', 'p-2', await boardJpeg(640, 480, 6))];
        for (const f of frames) await driver.pipe(TOPICS.cameraFrames, f.camera_id, f);
        await driver.run();
        const results = await driver.outputs<QcResult>(TOPICS.qcResults);
        assert.equal(results.length, 2);
        for (const r of results) assert.equal(r.value.heatmap_png !== null, heatmaps === 'all' || (heatmaps === 'defect' && r.value.verdict === 'DEFECT'), `${r.value.verdict} with heatmap ${r.value.heatmap_png?.length}`);
        // The peak is computed under every policy (it costs nothing; the live view marks it); a
        // clean board may have an all-zero Grad-CAM and no peak, a DEFECT verdict always has one.
        assert.ok(results.every((r) => r.value.verdict === 'PASS' || r.value.heatmap_peak !== null));
      } finally {
        await driver.close();
      }
    });
  }
});
