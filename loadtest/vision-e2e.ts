// VisionSpec end to end on the embedded stack (docs/benchmarks.md), with Grad-CAM overlays on:
//   frame generator -> vision.frames.v1 -> vision-qc (worker pool: decode, ONNX + Grad-CAM,
//   post-processing, overlay PNG) -> vision.qc-results.v1
// at fixed offered frame rates: results/s and capture -> result latency (p50/p99), against two
// baselines in the same run on the same frames:
//   - ceiling: bare onnxruntime-node runs of the same model on the same frames, decoded in advance
//     (the session settings of one pool worker), and the same in-process inspectFrame (decode +
//     model + post-processing + overlay) without Kafka;
//   - passthrough: a raw kafkajs consume -> produce of the frames (loadtest/vision-passthrough.ts).
//   node loadtest/vision-e2e.ts [--rates 10,30,45] [--seconds 30] [--frames 120] [--heatmaps defect|all|none] [--out loadtest/results/x.json]
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../schemas/generated/types.ts';
import { applyTopics } from '../cli/topics.ts';
import { serviceEnv } from '../cli/env.ts';
import { DEFAULT_DEEPPCB_DIR } from '../cli/camera.ts';
import { up } from '../infra/stack/stack.ts';
import { DeepPcbLine, type CapturedImage } from '../connectors/camera/frame-sources.ts';
import { findDeepPcbImages } from '../connectors/camera/image-files.ts';
import { workerSettingsFromEnv } from '../streams/runtime/config.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { loadModels } from '../streams/runtime/models.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { decodeFrame, modelInput } from '../streams/vision/frame-image.ts';
import { inspectFrame } from '../streams/vision/inspect-frame.ts';
import { visionModelSpec } from '../streams/vision/model.ts';
import { LatencyRecorder, joinedConsumer, scrapeRuntimeMetrics, skipBacklog, startJoined, stopProcess, writeResults } from './lib.ts';
import { VISION_PASSTHROUGH_GROUP, VISION_PASSTHROUGH_TOPIC } from './vision-passthrough.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const rates = arg('rates', '10,30,45').split(',').map(Number);
const seconds = Number(arg('seconds', '30'));
const frameCount = Number(arg('frames', '120'));
const ceilingSeconds = Number(arg('ceiling-seconds', '15'));
// Which results carry the overlay PNG (STREAMSCORE_VISION_HEATMAPS): the shipped default unless asked.
const heatmaps = arg('heatmaps', 'defect') as 'all' | 'defect' | 'none';
const out = arg('out', `loadtest/results/vision-e2e-${new Date().toISOString().slice(0, 10)}.json`);
const root = new URL('..', import.meta.url).pathname;
const PROCESSOR_METRICS_PORT = 9473;

// The same frames for every phase: DeepPCB boards through the simulated line (jitter, JPEG), half defective.
const boards = findDeepPcbImages(existsSync(DEFAULT_DEEPPCB_DIR) ? DEFAULT_DEEPPCB_DIR : join(root, 'models/vision/fixtures/gradcam'));
const line = new DeepPcbLine(boards, { cameras: 2, defectRate: 0.5, seed: 9 });
const frames: CapturedImage[] = [];
for (let i = 0; i < frameCount; i++) frames.push(await line.capture(i % 2));

// --- ceiling: the model alone, then the whole per-frame work, in this process --------------------
const spec = visionModelSpec();
const pool = workerSettingsFromEnv(process.env, availableParallelism(), []);
const models = await loadModels([spec], { intraOpThreads: pool.ortThreads });
const model = models[spec.name];
const { name: inputName, width, height } = spec.meta.input;
const inputs = await Promise.all(frames.map(async (f) => modelInput(await decodeFrame(f.image, { encoding: f.encoding }), { width, height })));
async function timed(run: (i: number) => Promise<unknown>): Promise<{ framesPerSecond: number; p50: number; p99: number; count: number }> {
  for (let i = 0; i < 5; i++) await run(i); // warm-up
  const recorder = new LatencyRecorder();
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < ceilingSeconds * 1000) {
    const started = performance.now();
    await run(i++);
    recorder.add(performance.now() - started);
  }
  const s = recorder.summary();
  return { framesPerSecond: Math.round((s.count / ((performance.now() - t0) / 1000)) * 10) / 10, p50: round(s.p50), p99: round(s.p99), count: s.count };
}
const ceiling = {
  ortThreads: pool.ortThreads,
  modelOnly: await timed((i) => model.run({ [inputName]: new ort.Tensor('float32', inputs[i % inputs.length], [1, 1, height, width]) })),
  inspectFrame: await timed((i) => inspectFrame(frames[i % frames.length].image, { encoding: 'JPEG' }, model, { overlay: heatmaps })),
};
await model.close();
process.stderr.write(`ceiling ${JSON.stringify(ceiling)}\n`);

// --- the stack -----------------------------------------------------------------------------------
await up();
const env = serviceEnv();
await applyTopics(env);
const log = createLogger({ bench: 'vision' }).child({}, { level: 'warn' });
const kafka = createKafka('bench-vision', brokerList(env.KAFKA_BROKERS!), log);
const admin = kafka.admin();
await admin.connect();
if (!(await admin.listTopics()).includes(VISION_PASSTHROUGH_TOPIC)) {
  await admin.createTopics({ waitForLeaders: true, topics: [{ topic: VISION_PASSTHROUGH_TOPIC, numPartitions: TOPICS.cameraFrames.partitions, configEntries: [{ name: 'max.message.bytes', value: String(TOPICS.cameraFrames.maxMessageBytes) }] }] });
}
const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!));
await serde.useTopic(TOPICS.cameraFrames.name, loadSchema(TOPICS.cameraFrames.schema));
serde.useReader(TOPICS.qcResults.name, loadSchema(TOPICS.qcResults.schema));
const producer = kafka.producer({ allowAutoTopicCreation: false });
await producer.connect();

/** `rate` frames/s for `seconds`, two cameras in turn, captured_at = the wall clock at send. */
async function produceFrames(rate: number, prefix: string): Promise<number> {
  const started = Date.now();
  const inFlight = new Set<Promise<unknown>>();
  let sent = 0;
  for (;;) {
    const due = started + (sent * 1000) / rate;
    if (due - started >= seconds * 1000) break;
    const wait = due - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const f = frames[sent % frames.length];
    const camera = `cam-0${1 + (sent % 2)}`;
    const frame: CameraFrame = { frame_id: `${prefix}-${sent}`, camera_id: camera, line_id: 'line-bench', captured_at: Date.now(), width: f.width, height: f.height, encoding: f.encoding, image: f.image, template_id: f.templateId };
    const p = producer.send({ topic: TOPICS.cameraFrames.name, acks: -1, messages: [{ key: camera, value: serde.encode(TOPICS.cameraFrames.name, frame), timestamp: String(frame.captured_at) }] }).finally(() => inFlight.delete(p));
    inFlight.add(p);
    sent++;
    if (inFlight.size > 20) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return sent;
}

/** Offers `rate` frames/s to `topic`'s producer side and reads what comes out until all `sent` arrived or 10 s pass without one. */
async function measure(topic: string, rate: number, latencyOf: (m: { value: Buffer | null; headers?: Record<string, unknown> }) => Promise<number | null>) {
  const recorder = new LatencyRecorder();
  let first = 0;
  let last = 0;
  const consumer = await joinedConsumer(kafka, topic, async (m) => {
    const ms = await latencyOf(m);
    if (ms === null) return;
    recorder.add(ms);
    last = Date.now();
  }, { maxBytesPerPartition: TOPICS.qcResults.maxMessageBytes });
  await new Promise((r) => setTimeout(r, 1_000)); // latest offsets resolved before the first frame
  first = Date.now();
  const sent = await produceFrames(rate, `bench-${topic === VISION_PASSTHROUGH_TOPIC ? 'pt' : 'qc'}-${rate}-${Date.now().toString(36)}`);
  const produceSeconds = (Date.now() - first) / 1000;
  for (let seen = -1; recorder.summary().count < sent && recorder.summary().count !== seen; ) {
    seen = recorder.summary().count;
    await new Promise((r) => setTimeout(r, 10_000));
  }
  await consumer.disconnect();
  const s = recorder.summary();
  return { sent, offeredPerSecond: round(sent / produceSeconds), received: s.count, deliveredPerSecond: round(s.count / ((last - first) / 1000)), p50: round(s.p50), p99: round(s.p99), max: round(s.max) };
}

const results: Record<string, unknown>[] = [];
for (const rate of rates) {
  await skipBacklog(admin, VISION_PASSTHROUGH_GROUP, TOPICS.cameraFrames.name);
  const passthrough = await startJoined(['loadtest/vision-passthrough.ts'], env);
  const base = await measure(VISION_PASSTHROUGH_TOPIC, rate, async (m) => Date.now() - Number(String(m.headers?.['source-ts'])));
  await stopProcess(passthrough);

  await skipBacklog(admin, 'vision-qc', TOPICS.cameraFrames.name);
  const processor = await startJoined(['bin/streamscore.mjs', 'run', 'vision-qc'], env, { METRICS_PORT: String(PROCESSOR_METRICS_PORT), STREAMSCORE_VISION_HEATMAPS: heatmaps });
  const verdicts = { PASS: 0, DEFECT: 0 };
  let withOverlay = 0;
  const pipeline = await measure(TOPICS.qcResults.name, rate, async (m) => {
    const r = (await serde.decode(TOPICS.qcResults.name, m.value)) as QcResult;
    if (!r.frame_id.startsWith(`bench-qc-${rate}-`)) return null;
    verdicts[r.verdict]++;
    if (r.heatmap_png) withOverlay++;
    return Date.now() - r.captured_at;
  });
  const { recordsIn, dlq, lag } = await scrapeRuntimeMetrics(PROCESSOR_METRICS_PORT);
  await stopProcess(processor);
  const row = { rate, seconds, passthrough: base, pipeline, verdicts, withOverlay, processor: { recordsIn, dlq, lag }, p99Ratio: round(pipeline.p99 / base.p99) };
  results.push(row);
  process.stderr.write(`${JSON.stringify(row)}\n`);
}
writeResults(out, { model: `${spec.name}@${spec.version}`, pool, heatmaps, frames: { count: frameCount, medianBytes: frames.map((f) => f.image.length).sort((a, b) => a - b)[frames.length >> 1] }, ceiling, results });
await producer.disconnect();
await admin.disconnect();
process.stderr.write(`wrote ${out}\n`);

function round(v: number): number {
  return Math.round(v * 10) / 10;
}
