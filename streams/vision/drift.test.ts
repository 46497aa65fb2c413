// Drift of vision-qc in the test driver: camera frames -> the real worker pool and committed QC
// model -> each result's drift sample (the model input's mean and std brightness, computed in the
// worker, and the defect probability) -> DriftMonitor -> DriftAlert on models.drift-alerts.v1.
// The reference is made as a trainer makes one (models/common/reference.py, CI's .venv) from frames
// of the same synthetic line, so what is tested is the monitor against its own line: stable frames
// raise nothing, and a brighter lamp (+50 grey levels) raises brightness within a few steps.
// Time is scaled to keep the ONNX runs few (640 frames): frames 1 s apart, windows of 200 s judged
// every 20 s with at least 150 frames, where the processor's own are 10 min, 1 min and 300 frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { seededRandom } from '../runtime/random.ts';
import { TOPICS } from '../../schemas/topics.ts';
import type { DriftAlert } from '../../schemas/generated/types.ts';
import type { DriftDeclaration, DriftSample } from '../runtime/drift/processor-drift.ts';
import { noPythonReference, pythonReference } from '../runtime/drift/python-reference.ts';
import { ProcessorTestDriver } from '../runtime/test-driver.ts';
import { visionModelSpec } from './model.ts';
import { DEFAULT_VISION_QC_OPTIONS, visionQc } from './topology.ts';
import { boardPixels, frame } from './test-frames.ts';

const START = Date.UTC(2026, 11, 6, 8);
const SIZE = 640;
const WINDOWING = { windowMs: 200_000, stepMs: 20_000, minRecords: 150 };
/** Steps (20 s of frames) the lamp change may take to raise: a window a fifth shifted gives KS D ~0.2. */
const MAX_DETECTION_STEPS = 5;
const REFERENCE_FRAMES = 200;

/** A board frame under the line's lamp: each frame's exposure varies (gain 0.85-1.15); `offset` is a brighter lamp. */
async function lineFrame(i: number, gain: number, offset: number): Promise<Buffer> {
  const px = boardPixels(SIZE, SIZE, i % 37);
  for (let k = 0; k < px.length; k++) px[k] = Math.min(255, Math.round(px[k] * gain + offset));
  return sharp(px, { raw: { width: SIZE, height: SIZE, channels: 1 } }).jpeg({ quality: 90 }).toBuffer();
}

/** Frames first..first+count-1 through vision-qc in the driver; every result's drift sample and the driver's drift alerts. */
async function inspect(o: { first: number; count: number; offsetFrom?: number; drift: Partial<DriftDeclaration> }) {
  const spec = visionModelSpec();
  const def = visionQc(spec, { ...DEFAULT_VISION_QC_OPTIONS, heatmaps: 'none' }, { drift: o.drift });
  const samples: DriftSample[] = [];
  const handle = def.handle;
  def.handle = async (records, ctx) => {
    const outputs = await handle(records, ctx);
    for (const out of outputs) if (out.drift) samples.push(out.drift);
    return outputs;
  };
  const driver = new ProcessorTestDriver(def, { startTime: START, workers: { threads: 2, ortThreads: 1 } });
  const random = seededRandom(o.first + 1);
  try {
    for (let i = o.first; i < o.first + o.count; i++) {
      const shifted = o.offsetFrom !== undefined && i >= o.offsetFrom;
      const image = await lineFrame(i, 0.85 + 0.3 * random(), shifted ? 50 : 0);
      const capturedAt = START + i * 1_000;
      await driver.pipe(TOPICS.cameraFrames, 'cam-1', frame('cam-1', `f-${i}`, image, { captured_at: capturedAt }));
      if ((i + 1) % 20 === 0) {
        driver.clock = capturedAt;
        await driver.run();
      }
    }
    await driver.run();
    return { spec, samples, alerts: (await driver.outputs<DriftAlert>(TOPICS.driftAlerts)).map((a) => a.value) };
  } finally {
    await driver.close();
  }
}


test('vision-qc declares drift with the committed model\'s reference (brightness mean and std, defect probability)', () => {
  const spec = visionModelSpec();
  const drift = visionQc(spec).drift!;
  assert.equal(drift.windowMs, 600_000);
  assert.equal(drift.minRecords, 300);
  assert.deepEqual(drift.references.map((r) => [r.model_name, r.model_version]), [[spec.name, spec.version]]);
  assert.deepEqual(Object.keys(drift.references[0].features).sort(), ['brightness_mean', 'brightness_std']);
});

test('vision drift: stable frames raise nothing; a brighter lamp raises brightness within 5 steps, as DriftAlerts on the topic', { skip: noPythonReference, timeout: 240_000 }, async () => {
  // 200 frames make the reference: PSI's sampling noise over 10 bins is then ~9/200 + 9/150 = 0.1, half the threshold.
  const first = await inspect({ first: 0, count: REFERENCE_FRAMES, drift: { references: [] } });
  assert.equal(first.samples.length, REFERENCE_FRAMES, 'every frame scored with a drift sample');
  assert.ok(first.samples.every((s) => s.values.brightness_mean > 0.3 && s.values.brightness_mean < 1 && s.values.brightness_std > 0), 'brightness of the model input, 0..1');
  const reference = pythonReference(first.samples, first.spec, 'vision drift.test.ts: reference frames');
  // 340 stable frames (the first full window, then 7 judged), then the lamp: 100 frames 50 grey levels brighter.
  const shiftAt = REFERENCE_FRAMES + 340;
  const run = await inspect({ first: REFERENCE_FRAMES, count: 440, offsetFrom: shiftAt, drift: { references: [reference], ...WINDOWING } });
  const lampOn = START + shiftAt * 1_000;
  const raised = run.alerts.filter((a) => a.state === 'RAISED');
  const before = raised.filter((a) => a.window_end < lampOn);
  assert.deepEqual(before.map((a) => `${a.statistic} ${a.feature} ${new Date(a.window_end).toISOString()}`), [], 'no alert while the line was stable');
  const brightness = raised.find((a) => a.feature === 'brightness_mean');
  assert.ok(brightness, `brighter lamp not raised on brightness_mean: ${raised.map((a) => `${a.statistic} ${a.feature}`).join(', ') || 'no alert'}`);
  const steps = Math.ceil((brightness.window_end - lampOn) / WINDOWING.stepMs);
  assert.ok(steps <= MAX_DETECTION_STEPS, `raised only after ${steps} steps`);
  assert.equal(brightness.processor, 'vision-qc');
  assert.deepEqual([brightness.model_name, brightness.model_version], [run.spec.name, run.spec.version]);
  const stableWindows = Math.floor((lampOn - START - REFERENCE_FRAMES * 1_000 - WINDOWING.windowMs) / WINDOWING.stepMs);
  process.stdout.write(`# ${stableWindows} stable windows: 0 alerts; lamp +50 raised after ${steps} steps: ${raised.map((a) => `${a.statistic} ${a.feature}`).join(', ')}\n`);
});
