// vision-qc (VisionSpec): camera frames -> decode and validate (sharp) -> the PCB QC CNN (ONNX, with
// Grad-CAM from the same pass) on the runtime's worker pool -> QC results with verdict, defect
// boxes, heatmap overlay and peak. At-least-once: a result is a pure function of (frame, model), so
// a re-delivered frame yields the same result under the same frame_id, which consumers dedupe by.
import 'sharp'; // Loaded by the main thread too, so a terminated worker never unloads libvips (glibc) under the others.
import { fileURLToPath } from 'node:url';
import { TOPICS } from '../../schemas/topics.ts';
import type { CameraFrame, QcResult } from '../../schemas/generated/types.ts';
import { defineProcessor, type InputRecord, type OffloadJob, type OutputRecord } from '../runtime/processor.ts';
import { DEFAULT_FRAME_LIMITS } from './frame-image.ts';
import type { OverlayPolicy } from './inspect-frame.ts';
import type { VisionModelSpec } from './model.ts';
import type { FrameJob, FrameJobResult } from './task.ts';
import { dirname } from 'node:path';
import { PREDICTION, readModelReference } from '../runtime/drift/reference.ts';
import type { DriftDeclaration } from '../runtime/drift/processor-drift.ts';

const TASK_MODULE = fileURLToPath(new URL('./task.ts', import.meta.url));

export interface VisionQcOptions {
  /** Which results carry heatmap_png (STREAMSCORE_VISION_HEATMAPS). */
  heatmaps: OverlayPolicy;
  /** A frame whose inspection runs longer is dead-lettered (its worker replaced). */
  recordDeadlineMs: number;
}

export const DEFAULT_VISION_QC_OPTIONS: VisionQcOptions = {
  // The overlay is the costliest step after the model on noisy camera frames (~30 ms, ~450 KB);
  // a PASS frame's heatmap shows nothing to act on, and the live view joins PASS frames from the
  // frames topic (docs/vision.md). As the schema says: null on PASS, to keep messages small.
  heatmaps: 'defect',
  // A frame takes 40-100 ms; 10 s is a frame that will never finish (the largest allowed decode is ~1 s).
  recordDeadlineMs: 10_000,
};

export function visionQcOptionsFromEnv(env: Record<string, string | undefined> = process.env): VisionQcOptions {
  const heatmaps = env.STREAMSCORE_VISION_HEATMAPS?.trim() || DEFAULT_VISION_QC_OPTIONS.heatmaps;
  if (heatmaps !== 'all' && heatmaps !== 'defect' && heatmaps !== 'none') {
    throw new Error(`STREAMSCORE_VISION_HEATMAPS=${heatmaps} must be all, defect or none`);
  }
  return { ...DEFAULT_VISION_QC_OPTIONS, heatmaps };
}

/**
 * Drift windows of the QC model: the last 10 minutes of frames by capture time, judged every minute,
 * with at least 300 frames. An inspection line is lit and timed by the machine, so it has no daily
 * cycle to span (unlike the plant's week): a lamp, exposure or supplier change is a step that stays,
 * and a short window finds it within minutes. 300 frames (10 min at 0.5 fps, far below a line's
 * rate) keep KS's chance threshold at p < 0.001/3 near D = 0.14, under the rule's 0.17 floor, so
 * frame-to-frame noise does not raise; a camera slower than that is judged on fewer windows, not
 * on noisier ones.
 */
export const VISION_DRIFT_WINDOWING = { windowMs: 10 * 60_000, stepMs: 60_000, minRecords: 300 };

/** The drift sample of one frame: the model input's brightness and the model's defect probability. */
export function visionDriftValues(r: Pick<FrameJobResult, 'brightness' | 'defectProbability'>): Record<string, number> {
  return { brightness_mean: r.brightness.mean, brightness_std: r.brightness.std, [PREDICTION]: r.defectProbability };
}

/** Ids become keys and dedupe keys downstream: 1-128 printable characters without surrounding spaces. */
function idProblem(name: string, id: string): string | null {
  if (id.length === 0 || id.length > 128) return `${name} must be 1-128 characters, got ${id.length}`;
  if (/[\u0000-\u001f\u007f]/.test(id) || id.trim() !== id) return `${name} ${JSON.stringify(id.slice(0, 40))} has control characters or surrounding spaces`;
  return null;
}

export function visionQc(model: VisionModelSpec, options: VisionQcOptions = DEFAULT_VISION_QC_OPTIONS, extra: { drift?: Partial<DriftDeclaration> } = {}) {
  // The version's training reference (reference.json beside the graph); without one, or with one of
  // another version, the model runs unmonitored and the runtime says so when it scores.
  const ref = readModelReference(dirname(model.file));
  const references = ref && ref.model_name === model.name && ref.model_version === model.version ? [ref] : [];
  return defineProcessor({
    name: 'vision-qc',
    description: `Inspects PCB camera frames with ${model.name} ${model.version}: PASS/DEFECT, defect boxes, Grad-CAM overlay (${options.heatmaps} frames) and peak.`,
    inputs: [TOPICS.cameraFrames],
    outputs: [TOPICS.qcResults],
    semantics: 'at-least-once',
    semanticsReason:
      'a result is a pure function of the frame and the model, so a frame re-delivered after a crash yields the same verdict, boxes and heatmap under the same frame_id, which consumers dedupe by; there is no state to count twice, and no per-batch transaction keeps frame-to-result latency low',
    models: [model],
    workers: { module: TASK_MODULE, recordDeadlineMs: options.recordDeadlineMs },
    drift: { references, ...VISION_DRIFT_WINDOWING, ...extra.drift },
    // A shadow challenger agrees when it gives the frame the same verdict (runtime rollout/).
    compare: { [TOPICS.qcResults.name]: (live: { verdict: string; defect_probability: number }, shadow: { verdict: string; defect_probability: number }) => ({ agree: live.verdict === shadow.verdict, delta: Math.abs(live.defect_probability - shadow.defect_probability) }) },
    validate: (frame: CameraFrame) => idProblem('frame_id', frame.frame_id) ?? idProblem('camera_id', frame.camera_id),
    async handle(records: InputRecord<CameraFrame>[], ctx) {
      const jobs = records.map((record): OffloadJob<FrameJob> => {
        const f = record.value;
        // A copy the pool may move to the worker: the decoded value's bytes share Kafka's fetch buffer.
        const image = new Uint8Array(f.image);
        const decodedEstimate = Math.min(Math.max(f.width, 0) * Math.max(f.height, 0), DEFAULT_FRAME_LIMITS.maxPixels) * 4;
        return {
          record,
          input: { model: model.name, encoding: f.encoding, width: f.width, height: f.height, image, overlay: options.heatmaps },
          bytes: image.byteLength + decodedEstimate,
          transfer: [image.buffer],
        };
      });
      const results = await ctx.offload<FrameJob, FrameJobResult>(jobs);
      const inspectedAt = ctx.now();
      const outputs: OutputRecord[] = [];
      results.forEach((r, i) => {
        if (!r) return; // dead-lettered by the runtime with its reason
        const { value: f } = records[i];
        const result: QcResult = {
          frame_id: f.frame_id,
          camera_id: f.camera_id,
          captured_at: f.captured_at,
          inspected_at: inspectedAt,
          verdict: r.verdict,
          defect_probability: r.defectProbability,
          boxes: r.boxes,
          heatmap_png: r.overlayPng ? Buffer.from(r.overlayPng.buffer, r.overlayPng.byteOffset, r.overlayPng.byteLength) : null,
          heatmap_peak: r.peak,
          model_name: model.name,
          model_version: model.version,
          latency_ms: r.latencyMs,
        };
        outputs.push({
          topic: TOPICS.qcResults, key: f.camera_id, value: result, source: records[i],
          drift: { model: model.name, version: model.version, eventTime: f.captured_at, values: visionDriftValues(r) },
        });
      });
      return outputs;
    },
  });
}
