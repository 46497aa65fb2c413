// One frame, start to finish: decode and validate, resize to the model input, one ONNX run (which
// also yields the Grad-CAM: no second pass, no second framework), post-process, overlay. The stream's
// worker task and `vision inspect` both call inspectFrame, so they cannot drift apart.
import * as ort from 'onnxruntime-node';
import type { LoadedModel } from '../runtime/models.ts';
import { decodeFrame, modelInput, type DeclaredFrame, type ImageEncoding } from './frame-image.ts';
import { OUTPUTS, metaProblems, type VisionModelMeta } from './model.ts';
import { renderOverlayPng } from './overlay.ts';
import { ModelOutputError, postprocess, rulesOf, type Inspection, type ModelOutputs } from './postprocess.ts';

/** What inspectFrame needs of a model: the runtime's LoadedModel, without close(). */
export type VisionModelRunner = Pick<LoadedModel, 'spec' | 'run'>;

export interface FrameInspection extends Inspection {
  width: number;
  height: number;
  encoding: ImageEncoding;
  rows: number;
  cols: number;
  /** The model call alone, in ms (QcResult.latency_ms). */
  latencyMs: number;
  /** Jet overlay of the heatmap on the frame; null when not asked for. */
  overlayPng: Buffer | null;
  /** Mean and standard deviation of the model input's pixels (0..1): the drift monitor's view of lighting and exposure. */
  brightness: BrightnessStats;
}

export interface BrightnessStats {
  mean: number;
  std: number;
}

/**
 * Mean and population standard deviation of the model input. Computed on the tensor the model
 * sees (not the raw frame), so a reference made from the training frames (models/vision/
 * make_reference.py: pixel / 255 of the 640x640 frames) measures the same thing. One pass, ~1 ms.
 */
export function brightnessOf(input: Float32Array): BrightnessStats {
  let sum = 0;
  let sumSq = 0;
  for (let k = 0; k < input.length; k++) {
    sum += input[k];
    sumSq += input[k] * input[k];
  }
  const mean = sum / input.length;
  return { mean, std: Math.sqrt(Math.max(sumSq / input.length - mean * mean, 0)) };
}

/** Which frames get an overlay PNG: every frame, DEFECT frames only, or none. */
export type OverlayPolicy = 'all' | 'defect' | 'none';

const checkedMeta = new WeakMap<object, VisionModelMeta>();

/** The model's meta, checked once per spec object (a worker gets its own copy). */
export function metaOf(model: VisionModelRunner): VisionModelMeta {
  const meta = model.spec.meta;
  if (!meta) throw new Error(`model ${model.spec.name} ${model.spec.version} has no meta; the vision post-processing needs its thresholds and classes`);
  let checked = checkedMeta.get(meta);
  if (!checked) {
    const problems = metaProblems(meta);
    if (problems.length) throw new Error(`model ${model.spec.name} ${model.spec.version} meta: ${problems.join('; ')}`);
    checked = meta as VisionModelMeta;
    checkedMeta.set(meta, checked);
  }
  return checked;
}

/** One ONNX run on a [1, 1, H, W] input; the outputs of image 0 and the time of the call. */
export async function runModel(model: VisionModelRunner, input: Float32Array): Promise<{ outputs: ModelOutputs; latencyMs: number }> {
  const meta = metaOf(model);
  const { name, height, width } = meta.input;
  const started = performance.now();
  const result = await model.run({ [name]: new ort.Tensor('float32', input, [1, 1, height, width]) });
  const latencyMs = performance.now() - started;
  const tensor = (key: string): ort.Tensor => {
    const t = result[key];
    if (!t) throw new ModelOutputError(`model ${model.spec.name} gave no output ${key} (got ${Object.keys(result).join(', ')})`);
    if (t.type !== 'float32') throw new ModelOutputError(`model output ${key} is ${t.type}, expected float32`);
    return t;
  };
  const gradcam = tensor(OUTPUTS.gradcam);
  const [rows, cols] = gradcam.dims.slice(-2);
  const data = (key: string) => tensor(key).data as Float32Array;
  return {
    outputs: { defectLogit: data(OUTPUTS.logit)[0], centers: data(OUTPUTS.centers), sizes: data(OUTPUTS.sizes), offsets: data(OUTPUTS.offsets), gradcam: gradcam.data as Float32Array, rows, cols },
    latencyMs,
  };
}

/**
 * Inspects one encoded frame. Throws FrameRejectedError for a frame that cannot be inspected (the
 * reason says why) and ModelOutputError when the model's outputs are unusable.
 */
export async function inspectFrame(bytes: Uint8Array, declared: DeclaredFrame, model: VisionModelRunner, options: { overlay: OverlayPolicy }): Promise<FrameInspection> {
  const meta = metaOf(model);
  const frame = await decodeFrame(bytes, declared);
  const input = await modelInput(frame, meta.input);
  const { outputs, latencyMs } = await runModel(model, input);
  const inspection = postprocess(outputs, rulesOf(meta), frame);
  const overlay = options.overlay === 'all' || (options.overlay === 'defect' && inspection.verdict === 'DEFECT');
  const overlayPng = overlay ? await renderOverlayPng(frame, inspection.heatmap, outputs.rows, outputs.cols) : null;
  return { ...inspection, width: frame.width, height: frame.height, encoding: frame.encoding, rows: outputs.rows, cols: outputs.cols, latencyMs, overlayPng, brightness: brightnessOf(input) };
}
