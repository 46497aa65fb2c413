// The PCB QC model as the runtime sees it: a ModelSpec (name, version, ONNX file, input/output
// signature) built from models/vision/artifacts/model-meta.json, which training writes. Thresholds,
// classes and the grid stride come from the meta, never from code (contract A in the vision notes).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readModelMeta, type ModelSpec, type TensorSignature } from '../runtime/models.ts';

export const DEFAULT_VISION_MODEL_DIR = new URL('../../models/vision/artifacts/', import.meta.url).pathname;
export const VISION_MODEL_FILE = 'pcb-qc.onnx';
export const VISION_META_FILE = 'model-meta.json';

export interface VisionModelMeta {
  model_name: string;
  model_version: string;
  input: { name: string; height: number; width: number; channels: number; range: [number, number] };
  /** Model-input pixels per heatmap cell. */
  stride: number;
  classes: string[];
  /** Image-level verdict: DEFECT when defect_probability >= threshold. */
  threshold: number;
  /** A heatmap peak at or above this becomes a box. */
  box_threshold: number;
  max_boxes: number;
  [key: string]: unknown;
}

/** The runtime's ModelSpec (what a processor declares in `models`), with the meta checked and typed. */
export interface VisionModelSpec extends ModelSpec {
  meta: VisionModelMeta;
}

/** The graph's output names (contract A). */
export const OUTPUTS = { logit: 'defect_logit', centers: 'center_heatmap', sizes: 'box_size', offsets: 'box_offset', gradcam: 'gradcam' } as const;

const isPositiveInt = (v: unknown): v is number => Number.isInteger(v) && (v as number) > 0;
const isProbability = (v: unknown): v is number => typeof v === 'number' && v > 0 && v <= 1;

/** Every problem of a parsed model-meta.json, as readable lines (empty when it is usable). */
export function metaProblems(meta: Record<string, unknown>): string[] {
  const problems: string[] = [];
  for (const key of ['model_name', 'model_version'] as const) {
    if (typeof meta[key] !== 'string' || meta[key] === '') problems.push(`${key} must be a non-empty string`);
  }
  const input = meta.input as Record<string, unknown> | undefined;
  if (typeof input !== 'object' || input === null) problems.push('input must be an object { name, height, width, channels, range }');
  else {
    if (typeof input.name !== 'string' || input.name === '') problems.push('input.name must be a non-empty string');
    if (!isPositiveInt(input.height) || !isPositiveInt(input.width)) problems.push('input.height and input.width must be positive integers');
    if (input.channels !== 1) problems.push(`input.channels is ${JSON.stringify(input.channels)}; the stream feeds grayscale (1 channel)`);
    const range = input.range;
    if (!Array.isArray(range) || range[0] !== 0 || range[1] !== 1) problems.push(`input.range is ${JSON.stringify(range)}; the stream feeds pixel / 255, [0, 1]`);
    if (isPositiveInt(meta.stride) && isPositiveInt(input.height) && isPositiveInt(input.width) && (input.height % meta.stride !== 0 || input.width % meta.stride !== 0)) {
      problems.push(`stride ${meta.stride} does not divide the input size ${input.width}x${input.height}`);
    }
  }
  if (!isPositiveInt(meta.stride)) problems.push('stride must be a positive integer');
  if (!Array.isArray(meta.classes) || meta.classes.length === 0 || meta.classes.some((c) => typeof c !== 'string' || c === '')) problems.push('classes must be a non-empty list of names');
  if (!isProbability(meta.threshold)) problems.push(`threshold is ${JSON.stringify(meta.threshold)}; it must be in (0, 1]`);
  if (!isProbability(meta.box_threshold)) problems.push(`box_threshold is ${JSON.stringify(meta.box_threshold)}; it must be in (0, 1]`);
  if (!isPositiveInt(meta.max_boxes)) problems.push('max_boxes must be a positive integer');
  return problems;
}

/** Reads and checks model-meta.json in `dir`; a bad or missing file is one clear error naming every problem. */
export function loadVisionMeta(dir = DEFAULT_VISION_MODEL_DIR): VisionModelMeta {
  return readModelMeta<VisionModelMeta>(dir, VISION_META_FILE, 'vision model', 'models/vision/ training', metaProblems);
}

/** The ModelSpec of the model in `dir` (default: the committed artifact). */
export function visionModelSpec(dir = DEFAULT_VISION_MODEL_DIR): VisionModelSpec {
  const meta = loadVisionMeta(dir);
  const file = resolve(dir, VISION_MODEL_FILE);
  if (!existsSync(file)) throw new Error(`no vision model in ${resolve(dir)}: ${VISION_MODEL_FILE} is missing`);
  const { height, width, name } = meta.input;
  const grid = [height / meta.stride, width / meta.stride];
  const f32 = (...shape: (number | string)[]): TensorSignature => ({ type: 'float32', shape });
  return {
    name: meta.model_name,
    version: meta.model_version,
    file,
    meta,
    signature: {
      inputs: { [name]: f32('N', 1, height, width) },
      outputs: {
        [OUTPUTS.logit]: f32('N', 1),
        [OUTPUTS.centers]: f32('N', meta.classes.length, ...grid),
        [OUTPUTS.sizes]: f32('N', 2, ...grid),
        [OUTPUTS.offsets]: f32('N', 2, ...grid),
        [OUTPUTS.gradcam]: f32('N', ...grid),
      },
    },
  };
}
