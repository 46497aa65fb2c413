// Acceptance (issue #9 §3) against the real Kafka and registry: camera frames in (real DeepPCB boards
// when ../shared has them), QC results out with the model's name and version, boxes, heatmap overlay
// and peak; every bad frame the issue names (empty, corrupt JPEG, PNG declared as JPEG, wrong size,
// a 50 MB frame) lands in vision.frames.v1.dlq with its reason, and the frames after them still
// come out.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CompressionTypes } from 'kafkajs';
import sharp from 'sharp';
import { TOPICS, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../../schemas/generated/types.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { visionModelSpec } from '../../streams/vision/model.ts';
import { badFrames, boardJpeg, frame } from '../../streams/vision/test-frames.ts';
import { DEFAULT_VISION_QC_OPTIONS, visionQc } from '../../streams/vision/topology.ts';
import { collect, endpoints, runId, runtimeOptions, testKafka } from './helpers.ts';

const DEEPPCB_GROUP = new URL('../../../shared/data/deeppcb/PCBData/group00041/00041/', import.meta.url).pathname;
const spec = visionModelSpec();

let processor: RunningProcessor;
before(async () => {
  processor = await startProcessor(visionQc(spec, { ...DEFAULT_VISION_QC_OPTIONS, heatmaps: 'all' }), runtimeOptions({ workers: { threads: 1, ortThreads: 1, maxInflight: 2, maxInflightBytes: 64 * 1024 * 1024 } }));
});
after(async () => {
  await processor?.stop();
});

/** Real DeepPCB boards (3 defect images, 2 templates), or board-like frames when ../shared is absent. */
async function goodFrames(id: string): Promise<CameraFrame[]> {
  if (existsSync(DEEPPCB_GROUP)) {
    const names = readdirSync(DEEPPCB_GROUP).filter((f) => f.endsWith('.jpg')).sort().slice(0, 5);
    return names.map((n, k) => frame(`${id}-cam-${k % 2}`, `${id}-${n}`, readFileSync(join(DEEPPCB_GROUP, n))));
  }
  return Promise.all([0, 1, 2, 3, 4].map(async (k) => frame(`${id}-cam-${k % 2}`, `${id}-board-${k}`, await boardJpeg(640, 640, k))));
}

test('frames -> QC results; each bad frame -> its reason in the DLQ; the processor keeps going', { timeout: 180_000 }, async () => {
  const id = runId();
  const kafka = testKafka();
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(TOPICS.cameraFrames.name, loadSchema(TOPICS.cameraFrames.schema));
  const good = await goodFrames(id);
  // One camera per bad kind, so each dead letter's key says which frame it is.
  const bad = (await badFrames(id)).map((b) => ({ ...b, frame: { ...b.frame, camera_id: `${id}-bad-${b.kind}` } }));
  const message = (f: CameraFrame) => ({ key: f.camera_id, value: serde.encode(TOPICS.cameraFrames.name, f) });

  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    const huge = bad.filter((b) => b.kind === 'frame-50mb');
    const small = bad.filter((b) => b.kind !== 'frame-50mb');
    await producer.send({ topic: TOPICS.cameraFrames.name, messages: [message(good[0]), message(good[1]), ...small.map((b) => message(b.frame))] });
    // 50 MB passes the broker's 8 MiB limit only compressed (it is mostly zeros): the consumer's check is what stops it.
    await producer.send({ topic: TOPICS.cameraFrames.name, compression: CompressionTypes.GZIP, messages: huge.map((b) => message(b.frame)) });
    await producer.send({ topic: TOPICS.cameraFrames.name, messages: good.slice(2).map(message) });
  } finally {
    await producer.disconnect();
  }

  const out = await collect(
    kafka,
    [TOPICS.qcResults.name, dlqTopic(TOPICS.cameraFrames.name)],
    (m) => (m.key ?? '').startsWith(id),
    (all) => all.length >= good.length + bad.length,
    150_000,
  );

  const reader = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  reader.useReader(TOPICS.qcResults.name, loadSchema(TOPICS.qcResults.schema));
  const results = await Promise.all(out.filter((m) => m.topic === TOPICS.qcResults.name).map(async (m) => ({ key: m.key, headers: m.headers, value: (await reader.decode(TOPICS.qcResults.name, m.value)) as QcResult })));
  assert.deepEqual(results.map((r) => r.value.frame_id).sort(), good.map((f) => f.frame_id).sort());
  for (const r of results) {
    const f = good.find((g) => g.frame_id === r.value.frame_id)!;
    assert.equal(r.key, f.camera_id, 'results are keyed by camera');
    assert.equal(r.headers['streamscore-model'], `${spec.name}@${spec.version}`);
    assert.deepEqual([r.value.camera_id, r.value.captured_at, r.value.model_name, r.value.model_version], [f.camera_id, f.captured_at, spec.name, spec.version]);
    assert.ok(r.value.defect_probability >= 0 && r.value.defect_probability <= 1);
    assert.equal(r.value.verdict, r.value.defect_probability >= spec.meta.threshold ? 'DEFECT' : 'PASS');
    assert.ok(r.value.boxes.length <= spec.meta.max_boxes);
    for (const b of r.value.boxes) {
      assert.ok(spec.meta.classes.includes(b.defect_class!) && b.score >= spec.meta.box_threshold, JSON.stringify(b));
      assert.ok(b.x >= 0 && b.y >= 0 && b.x + b.width <= f.width && b.y + b.height <= f.height, JSON.stringify(b));
    }
    const overlay = await sharp(r.value.heatmap_png!).metadata();
    assert.deepEqual([overlay.format, overlay.width, overlay.height], ['png', f.width, f.height]);
    // Grad-CAM is ReLU(sum alpha_k A_k): a board the model finds clean can have an all-zero map, and
    // then no peak. A DEFECT verdict always has one (the score that crossed the threshold has support).
    const peak = r.value.heatmap_peak;
    if (r.value.verdict === 'DEFECT') assert.ok(peak, `DEFECT without a heatmap peak: ${f.frame_id}`);
    if (peak) assert.ok(peak.x >= 0 && peak.x <= f.width && peak.y >= 0 && peak.y <= f.height, JSON.stringify(peak));
    assert.ok(r.value.inspected_at >= r.value.captured_at && r.value.latency_ms > 0);
  }

  const dead = new Map(out.filter((m) => m.topic !== TOPICS.qcResults.name).map((m) => [m.key, m.headers]));
  for (const b of bad) {
    const h = dead.get(b.frame.camera_id);
    assert.ok(h, `${b.kind}: no dead letter`);
    assert.equal(h['streamscore.error.stage'], b.stage.toUpperCase(), b.kind);
    assert.equal(h['streamscore.error.class'], b.errorClass, b.kind);
    assert.match(h['streamscore.error.message'], b.reason, b.kind);
    assert.equal(h['streamscore.error.processor'], 'vision-qc');
  }
  assert.equal((await fetch(`http://127.0.0.1:${processor.httpPort}/readyz`)).status, 200);
});
