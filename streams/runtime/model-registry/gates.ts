// The policy gates a version passes before an alias may point at it (docs/models.md "Approvals"):
//   signature  — the folder, built through its pipeline's loader, fits what the processor consumes
//                (ONNX: checkSignature against the declared signature; churn: the columns score.py selects);
//   evaluation — its policy metric is not worse than the champion's beyond the policy's margin, either
//                recomputed here on a committed evaluation set, or as the run reported it when the
//                run was evaluated on the policy's evaluation set (streamscore.eval_set);
//   card       — MODEL_CARD.md is among its artifacts and names its model_version.
// Every gate runs and reports, so a refusal lists all reasons at once.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MlflowClient, ModelVersion } from './mlflow-client.ts';
import type { ModelKind } from './model-kind.ts';
import type { ModelPolicy } from './policy.ts';
import { TAG, tagOf } from './register.ts';

export interface GateResult {
  name: 'signature' | 'evaluation' | 'card';
  ok: boolean;
  detail: string;
}

export interface GateInput {
  client: MlflowClient;
  kind: ModelKind;
  policy: ModelPolicy;
  candidate: { mv: ModelVersion; dir: string };
  /** The current champion (possibly the candidate itself); null when there is none yet. `dir` is needed for a recomputed evaluation. */
  champion: { mv: ModelVersion; dir?: string } | null;
}

export interface GateOutcome {
  gates: GateResult[];
  /** candidate, champion and margin, for the audit event. */
  numbers: Record<string, number>;
}

async function signatureGate(i: GateInput): Promise<GateResult> {
  const problems = await i.kind.compatibility(i.candidate.dir);
  return problems.length
    ? { name: 'signature', ok: false, detail: `does not fit ${i.kind.processor}: ${problems.join('; ')}` }
    : { name: 'signature', ok: true, detail: `fits what ${i.kind.processor} consumes (${i.kind.kind} loader${i.kind.kind === 'churn' ? ', score.py columns' : ', ONNX signature checked'})` };
}

async function reportedMetric(i: GateInput, mv: ModelVersion): Promise<number | string> {
  const evalSet = tagOf(mv.tags, TAG.evalSet);
  if (evalSet !== i.policy.eval_set) return `version ${mv.version} was evaluated on ${evalSet ?? 'an unrecorded set'}, the policy's set is ${i.policy.eval_set}`;
  if (!mv.run_id) return `version ${mv.version} has no run to read ${i.policy.metric} from`;
  const value = (await i.client.getRun(mv.run_id)).data.metrics?.find((m) => m.key === i.policy.metric)?.value;
  return value ?? `run ${mv.run_id} of version ${mv.version} has no metric ${i.policy.metric}`;
}

async function recomputedMetric(i: GateInput, dir: string | undefined, version: string): Promise<number | string> {
  if (!i.kind.evaluate) return `the ${i.kind.kind} kind cannot recompute ${i.policy.metric}; the policy must say "reported"`;
  if (!i.policy.eval_file || !existsSync(i.policy.eval_file)) return `evaluation set ${i.policy.eval_file ?? '(none)'} is missing`;
  if (!dir) return `version ${version} is not downloaded`;
  try {
    return await i.kind.evaluate(dir, i.policy.eval_file);
  } catch (err) {
    return `evaluating version ${version} failed: ${(err as Error).message.replace(/\n\s*-?\s*/g, ' ')}`;
  }
}

async function evaluationGate(i: GateInput, numbers: Record<string, number>): Promise<GateResult> {
  const p = i.policy;
  const how = p.evaluation === 'recomputed' ? `recomputed on ${p.eval_set}` : `as reported on ${p.eval_set}`;
  const candidate = p.evaluation === 'recomputed' ? await recomputedMetric(i, i.candidate.dir, i.candidate.mv.version) : await reportedMetric(i, i.candidate.mv);
  if (typeof candidate === 'string') return { name: 'evaluation', ok: false, detail: candidate };
  numbers.candidate = candidate;
  numbers.margin = p.margin;
  const fmt = (v: number) => v.toFixed(4);
  if (!i.champion) return { name: 'evaluation', ok: true, detail: `${p.metric} ${fmt(candidate)} (${how}); no champion to compare with` };
  if (i.champion.mv.version === i.candidate.mv.version) return { name: 'evaluation', ok: true, detail: `${p.metric} ${fmt(candidate)} (${how}); version ${i.candidate.mv.version} is the champion itself` };
  const champion = p.evaluation === 'recomputed' ? await recomputedMetric(i, i.champion.dir, i.champion.mv.version) : await reportedMetric(i, i.champion.mv);
  if (typeof champion === 'string') return { name: 'evaluation', ok: false, detail: `the champion (version ${i.champion.mv.version}) cannot be compared: ${champion}` };
  numbers.champion = champion;
  const ok = p.direction === 'higher' ? candidate >= champion - p.margin : candidate <= champion + p.margin;
  const rule = p.direction === 'higher' ? `>= champion ${fmt(champion)} - ${p.margin}` : `<= champion ${fmt(champion)} + ${p.margin}`;
  return { name: 'evaluation', ok, detail: `${p.metric} ${fmt(candidate)} ${ok ? 'is' : 'is not'} ${rule} (${how})` };
}

function cardGate(i: GateInput): GateResult {
  const card = join(i.candidate.dir, 'MODEL_CARD.md');
  const modelVersion = tagOf(i.candidate.mv.tags, TAG.modelVersion) ?? '';
  if (!existsSync(card)) return { name: 'card', ok: false, detail: 'MODEL_CARD.md is not among the version\'s artifacts' };
  if (!modelVersion || !readFileSync(card, 'utf8').includes(modelVersion)) return { name: 'card', ok: false, detail: `MODEL_CARD.md does not name the model version ${modelVersion || '(untagged)'}` };
  return { name: 'card', ok: true, detail: `MODEL_CARD.md names ${modelVersion}` };
}

export async function runGates(i: GateInput): Promise<GateOutcome> {
  const numbers: Record<string, number> = {};
  const gates = [await signatureGate(i), await evaluationGate(i, numbers), cardGate(i)];
  return { gates, numbers };
}
