// Models as a runtime concept: a processor declares the models it uses (ProcessorDefinition.models),
// the runtime loads each one once — in the main thread, or in every worker thread of the pool when
// the processor offloads — checks its ONNX signature at load, lists it in `--describe`, and stamps
// every output of the processor with `streamscore-model: name@version`.
//
// Where a model's bytes come from is a ModelSource. Today it is the file named in the spec; a model
// registry (hot swap, shadow, canary: a later issue) would be another ModelSource that resolves a
// name to a version and can hand out a new LoadedModel while the processor runs.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as ort from 'onnxruntime-node';

/** ONNX element types a signature may name (onnxruntime-node's Tensor.Type). */
export type TensorType = 'float32' | 'float64' | 'float16' | 'int8' | 'uint8' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'bool' | 'string';

/** One tensor of a signature. A string dimension is symbolic (any size, e.g. the batch 'N'); a number must match. */
export interface TensorSignature {
  type: TensorType;
  shape: (number | string)[];
}

export interface ModelSpec {
  name: string;
  version: string;
  /** Absolute path of the .onnx file. */
  file: string;
  /** What the processor needs besides the graph (thresholds, class names), e.g. the model's meta JSON. */
  meta?: Record<string, unknown>;
  /** The inputs and outputs the processor relies on; checked against the graph at load. */
  signature: { inputs: Record<string, TensorSignature>; outputs: Record<string, TensorSignature> };
}

export interface LoadedModel {
  spec: ModelSpec;
  run(feeds: Record<string, ort.Tensor>): Promise<Record<string, ort.Tensor>>;
  /** Frees the session (the runtime calls it when the processor stops). */
  close(): Promise<void>;
}

export interface ModelLoadOptions {
  /** onnxruntime's intra-op threads for this session (the pool accounts for them: config.ts). */
  intraOpThreads: number;
}

/** Where models come from. The seam for a later registry (resolve, hot swap, shadow, canary). */
export interface ModelSource {
  load(spec: ModelSpec, options: ModelLoadOptions): Promise<LoadedModel>;
}

/** Header on every output of a processor that declares models. */
export const MODEL_HEADER = 'streamscore-model';

/** `name@version`, comma-separated when a processor uses several models. */
export function modelHeaderValue(specs: ModelSpec[]): string {
  return specs.map((s) => `${s.name}@${s.version}`).join(',');
}

export class ModelSignatureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelSignatureError';
  }
}

/** Loads the file the spec names: the source every processor uses until a registry exists. */
export class FileModelSource implements ModelSource {
  async load(spec: ModelSpec, options: ModelLoadOptions): Promise<LoadedModel> {
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(spec.file, { intraOpNumThreads: options.intraOpThreads, interOpNumThreads: 1, executionMode: 'sequential' });
    } catch (err) {
      throw new Error(`model ${spec.name}@${spec.version}: cannot load ${spec.file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    }
    try {
      checkSignature(spec, session);
    } catch (err) {
      await session.release();
      throw err;
    }
    return { spec, run: (feeds) => session.run(feeds) as Promise<Record<string, ort.Tensor>>, close: () => session.release() };
  }
}

interface GraphValue {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/**
 * Throws ModelSignatureError listing every difference between the spec's signature and the graph:
 * a missing or extra input, a missing output, a different element type, rank or fixed dimension.
 * Extra outputs are allowed (a graph may expose more than the processor reads).
 */
export function checkSignature(spec: ModelSpec, session: Pick<ort.InferenceSession, 'inputNames' | 'outputNames'> & { inputMetadata?: readonly GraphValue[]; outputMetadata?: readonly GraphValue[] }): void {
  const problems: string[] = [];
  const compare = (side: 'input' | 'output', names: readonly string[], metadata: readonly GraphValue[] | undefined, expected: Record<string, TensorSignature>) => {
    for (const [name, want] of Object.entries(expected)) {
      if (!names.includes(name)) {
        problems.push(`${side} "${name}" is not in the graph (its ${side}s: ${names.join(', ') || 'none'})`);
        continue;
      }
      const got = metadata?.find((m) => m.name === name);
      if (!got?.isTensor || got.type === undefined || got.shape === undefined) continue;
      if (got.type !== want.type) problems.push(`${side} "${name}" is ${got.type}, the processor expects ${want.type}`);
      const dims = got.shape.map((d) => (d === '' ? '?' : d));
      const same = dims.length === want.shape.length && want.shape.every((w, i) => typeof w === 'string' || dims[i] === w);
      if (!same) problems.push(`${side} "${name}" has shape [${dims.join(', ')}], the processor expects [${want.shape.join(', ')}]`);
    }
  };
  compare('input', session.inputNames, session.inputMetadata, spec.signature.inputs);
  compare('output', session.outputNames, session.outputMetadata, spec.signature.outputs);
  for (const name of session.inputNames) {
    if (!(name in spec.signature.inputs)) problems.push(`the graph has input "${name}", which the processor does not feed`);
  }
  if (problems.length) {
    throw new ModelSignatureError(`model ${spec.name}@${spec.version} (${spec.file}) does not match the signature its processor declares:\n  - ${problems.join('\n  - ')}`);
  }
}

/** Loads every model of a processor once; a missing file or a signature mismatch fails here, before any record is read. */
export async function loadModels(specs: ModelSpec[], options: ModelLoadOptions, source: ModelSource = new FileModelSource()): Promise<Record<string, LoadedModel>> {
  const loaded: Record<string, LoadedModel> = {};
  for (const spec of specs) {
    if (loaded[spec.name]) throw new Error(`two models are named "${spec.name}": model names must be unique within a processor`);
    loaded[spec.name] = await source.load(spec, options);
  }
  return loaded;
}

/** A source that reports how long each load took (streamscore_model_load_seconds, worker-pool-metrics.ts). */
export function timedModelSource(source: ModelSource, onLoaded: (spec: ModelSpec, seconds: number) => void): ModelSource {
  return {
    async load(spec, options) {
      const started = performance.now();
      const model = await source.load(spec, options);
      onLoaded(spec, (performance.now() - started) / 1000);
      return model;
    },
  };
}

/**
 * Reads and checks the meta JSON training wrote beside a model (thresholds, classes, labels): a
 * missing or bad file is one clear error naming every problem, before any record is read.
 * `what` names the model in errors ("vision model"); `writer` says what writes the file.
 */
export function readModelMeta<M>(dir: string, file: string, what: string, writer: string, problemsOf: (meta: Record<string, unknown>) => string[]): M {
  const path = join(dir, file);
  if (!existsSync(path)) throw new Error(`no ${what} in ${resolve(dir)}: ${file} is missing (${writer} writes it)`);
  let meta: Record<string, unknown>;
  try {
    meta = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  const problems = problemsOf(meta);
  if (problems.length) throw new Error(`${path} is not a usable ${what} meta:\n  ${problems.join('\n  ')}`);
  return meta as M;
}
