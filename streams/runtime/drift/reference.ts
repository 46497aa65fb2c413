// A model version's reference distributions (reference.json, written by its trainer through
// models/common/reference.py): per feature and for the prediction, the training data's decile cut
// points, the training share per bin, and a sorted sample for KS. Read once when a processor is
// built; a malformed file fails there with every problem named, never at the first window.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export const REFERENCE_FORMAT = 'streamscore-reference/1';
export const REFERENCE_FILE = 'reference.json';
/** The name the prediction goes by among the features (reference.py refuses a feature of that name). */
export const PREDICTION = 'prediction';

export interface FeatureReference {
  /** Ascending cut points; bin i holds the values v with i = #(edges <= v) (drift-stats.ts binIndex). */
  edges: number[];
  /** Training share per bin: edges.length + 1 of them. */
  proportions: number[];
  /** Training values the shares were counted over. */
  count: number;
  /** Ascending sample of at most 1,000 training values, for KS. */
  sample: number[];
}

export interface ModelReference {
  format: typeof REFERENCE_FORMAT;
  model_name: string;
  model_version: string;
  created: string;
  /** What the reference was computed from (training data and row count). */
  source: string;
  features: Record<string, FeatureReference>;
  prediction: FeatureReference;
}

/** Reads `dir/reference.json`; null when the model has none (it then runs unmonitored, and says so). */
export function readModelReference(dir: string): ModelReference | null {
  const path = join(dir, REFERENCE_FILE);
  if (!existsSync(path)) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not JSON (${(err as Error).message})`);
  }
  return parseModelReference(raw, path);
}

export function parseModelReference(raw: unknown, where: string): ModelReference {
  const r = raw as Partial<ModelReference>;
  const problems: string[] = [];
  if (r?.format !== REFERENCE_FORMAT) problems.push(`format must be "${REFERENCE_FORMAT}", got ${JSON.stringify(r?.format)}`);
  for (const k of ['model_name', 'model_version'] as const) if (typeof r?.[k] !== 'string' || !r[k]) problems.push(`${k} must be a non-empty string`);
  if (typeof r?.features !== 'object' || r.features === null) problems.push('features must be an object of feature references');
  else {
    if (PREDICTION in r.features) problems.push(`a feature may not be named "${PREDICTION}"`);
    for (const [name, f] of Object.entries(r.features)) problems.push(...featureProblems(f, `features.${name}`));
  }
  problems.push(...featureProblems(r?.prediction, PREDICTION));
  if (problems.length) throw new Error(`${where}: not a valid model reference: ${problems.join('; ')}`);
  return r as ModelReference;
}

function featureProblems(f: FeatureReference | undefined, name: string): string[] {
  if (typeof f !== 'object' || f === null) return [`${name} is missing`];
  const numbers = (a: unknown) => Array.isArray(a) && a.every((x) => typeof x === 'number' && Number.isFinite(x));
  const out: string[] = [];
  if (!numbers(f.edges) || f.edges.some((e, i) => i > 0 && e <= f.edges[i - 1])) out.push(`${name}.edges must be strictly ascending finite numbers`);
  else if (!numbers(f.proportions) || f.proportions.length !== f.edges.length + 1) out.push(`${name}.proportions must be ${f.edges.length + 1} numbers (one per bin)`);
  else if (Math.abs(f.proportions.reduce((a, b) => a + b, 0) - 1) > 1e-3) out.push(`${name}.proportions must sum to 1`);
  if (!numbers(f.sample) || f.sample.length === 0 || f.sample.some((v, i) => i > 0 && v < f.sample[i - 1])) out.push(`${name}.sample must be a non-empty ascending list of numbers`);
  if (!(Number.isInteger(f.count) && f.count > 0)) out.push(`${name}.count must be a positive integer`);
  return out;
}
