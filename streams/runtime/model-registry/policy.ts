// The promotion policy written in the repo (models/policy/policy.json): per registered model, the
// metric that decides whether a candidate may replace its champion, how it is obtained, and the
// margin it may fall short by; plus the rollout rules the serving side uses. Read and checked once;
// every problem is named.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';

export interface RolloutRules {
  /** Sliding window per role, and the least records a window needs before a rule is judged. */
  window_ms: number;
  min_records: number;
  /** Nothing is judged for this long after a stage's first chunk on an instance (cold sessions, JIT, a loaded machine read as latency); DEFAULT_WARMUP_MS when the policy has none. */
  warmup_ms: number;
  /** Roll back when the challenger's error rate exceeds the champion's by more than this (0.01 = 1 pp). */
  max_error_rate_increase: number;
  /** Roll back when the challenger's p99 latency per record exceeds this multiple of the champion's. */
  max_p99_latency_ratio: number;
  /** Roll back when PSI(challenger scores, champion scores) exceeds this. */
  max_score_psi: number;
  canary_fraction: number;
  /** Delayed labels (rollout/performance-feed.ts): roll back when the challenger's precision is below the champion's by more than this. */
  precision_margin?: number;
  /** ... once the challenger has at least this many judged alerts (true + false positives). */
  min_judged_alerts?: number;
  /** Rules not judged (ROLLOUT_RULES), e.g. score_psi for a version retrained because the data moved. */
  off?: string[];
}

export const DEFAULT_WARMUP_MS = 10_000;

/** The rules the rollout controller judges (rollout-controller.ts, performance-feed.ts). */
export const ROLLOUT_RULES = ['error_rate', 'p99_latency', 'score_psi', 'precision'] as const;

/** What one rollout may change of its model's rules (the rollout tag's `rules`, the policy's `retrained_rollout`). */
export type RolloutOverrides = Partial<Omit<RolloutRules, 'off' | 'canary_fraction'>> & { off?: string[] };

const OVERRIDABLE = ['window_ms', 'min_records', 'warmup_ms', 'max_error_rate_increase', 'max_p99_latency_ratio', 'max_score_psi', 'precision_margin', 'min_judged_alerts'] as const;

/** Problems of a rules override (empty when it is valid): known numeric keys >= 0, `off` naming known rules. */
export function rolloutOverrideProblems(raw: unknown, where: string): string[] {
  if (raw === undefined) return [];
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return [`${where} must be an object`];
  const problems: string[] = [];
  for (const [k, v] of Object.entries(raw)) {
    if (k === 'off') {
      if (!Array.isArray(v) || !v.every((r) => (ROLLOUT_RULES as readonly unknown[]).includes(r))) problems.push(`${where}.off must list rules among ${ROLLOUT_RULES.join(', ')}`);
    } else if (!(OVERRIDABLE as readonly string[]).includes(k)) problems.push(`${where}.${k} is not a rollout rule (${OVERRIDABLE.join(', ')}, off)`);
    else if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) problems.push(`${where}.${k} must be a finite number >= 0`);
  }
  return problems;
}

export interface ModelPolicy {
  metric: string;
  /** higher: a candidate fails when metric < champion - margin; lower: when metric > champion + margin. */
  direction: 'higher' | 'lower';
  margin: number;
  /** recomputed: evaluated here on eval_file; reported: the run's metric, accepted only for runs evaluated on eval_set. */
  evaluation: 'recomputed' | 'reported';
  eval_set: string;
  /** Repository-relative file of the fixed evaluation set (recomputed only). */
  eval_file?: string;
  rollout: RolloutRules;
  /**
   * The rules for a version the steward retrained (`retrained_rollout` of the policy, the model's
   * own over it): it writes them into the rollout tag of that walk. A model retrained because the
   * data moved is expected to score differently from its champion, so by default score_psi is off
   * and it is judged on errors, latency, delayed-label precision and the evaluation gate.
   */
  retrained_rollout: RolloutOverrides;
}

export interface Policy {
  models: Record<string, ModelPolicy>;
}

const ROLLOUT_KEYS = ['window_ms', 'min_records', 'max_error_rate_increase', 'max_p99_latency_ratio', 'max_score_psi', 'canary_fraction'] as const;

/** Parses a policy document; `baseDir` resolves eval_file. Throws one error listing every problem. */
export function parsePolicy(raw: unknown, baseDir: string, source = 'policy'): Policy {
  const problems: string[] = [];
  const doc = raw as { models?: Record<string, Record<string, unknown>>; rollout_defaults?: Record<string, unknown>; retrained_rollout?: unknown };
  problems.push(...rolloutOverrideProblems(doc.retrained_rollout, `${source}: retrained_rollout`));
  if (!doc || typeof doc.models !== 'object') throw new Error(`${source}: expected {"models": {NAME: {...}}, "rollout_defaults": {...}}`);
  const models: Record<string, ModelPolicy> = {};
  for (const [name, p] of Object.entries(doc.models)) {
    const where = `${source}: models.${name}`;
    const rollout = { ...(doc.rollout_defaults ?? {}), ...((p.rollout as Record<string, unknown> | undefined) ?? {}) };
    if (typeof p.metric !== 'string' || p.metric === '') problems.push(`${where}.metric must name a run metric`);
    if (p.direction !== 'higher' && p.direction !== 'lower') problems.push(`${where}.direction must be "higher" or "lower"`);
    if (typeof p.margin !== 'number' || !(p.margin >= 0)) problems.push(`${where}.margin must be a number >= 0`);
    if (p.evaluation !== 'recomputed' && p.evaluation !== 'reported') problems.push(`${where}.evaluation must be "recomputed" or "reported"`);
    if (typeof p.eval_set !== 'string' || p.eval_set === '') problems.push(`${where}.eval_set must identify the evaluation data`);
    if (p.evaluation === 'recomputed' && typeof p.eval_file !== 'string') problems.push(`${where}.eval_file is required when evaluation is "recomputed"`);
    for (const key of ROLLOUT_KEYS) if (typeof rollout[key] !== 'number') problems.push(`${where}.rollout.${key} (or rollout_defaults.${key}) must be a number`);
    rollout.warmup_ms ??= DEFAULT_WARMUP_MS;
    if (typeof rollout.warmup_ms !== 'number' || !(rollout.warmup_ms >= 0 && Number.isFinite(rollout.warmup_ms))) problems.push(`${where}.rollout.warmup_ms must be a finite number of milliseconds >= 0`);
    problems.push(...rolloutOverrideProblems(p.retrained_rollout, `${where}.retrained_rollout`));
    const retrained = { ...(doc.retrained_rollout as RolloutOverrides | undefined), ...(p.retrained_rollout as RolloutOverrides | undefined) };
    const evalFile = typeof p.eval_file === 'string' ? (isAbsolute(p.eval_file) ? p.eval_file : join(baseDir, p.eval_file)) : undefined;
    models[name] = { ...(p as unknown as ModelPolicy), eval_file: evalFile, rollout: rollout as unknown as RolloutRules, retrained_rollout: retrained };
  }
  if (problems.length) throw new Error(`invalid policy:\n  - ${problems.join('\n  - ')}`);
  return { models };
}

export function loadPolicy(file: string, baseDir: string): Policy {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read the policy ${file}: ${(err as Error).message}`);
  }
  return parsePolicy(raw, baseDir, file);
}

export function policyFor(policy: Policy, name: string, source: string): ModelPolicy {
  const p = policy.models[name];
  if (!p) throw new Error(`no policy for model ${name} in ${source} (models: ${Object.keys(policy.models).join(', ')}): a model is promoted only by gates written in the repo`);
  return p;
}
