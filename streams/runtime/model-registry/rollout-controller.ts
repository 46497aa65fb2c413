// Automatic rollback of a challenger, per processor instance and in process: every delivered chunk
// of a rollout adds what the champion and the challenger did (records, model errors, handle time,
// the challenger slot's scores) to a sliding window of `window_ms`; once both roles hold
// `min_records` in the window, the rules of models/policy/policy.json (`rollout`, per model over
// rollout_defaults) are judged, and the first breach rolls the challenger back:
//   error_rate   challenger error rate > champion's + max_error_rate_increase
//   p99_latency  challenger p99 handle time per record > max_p99_latency_ratio x champion's
//   score_psi    PSI(challenger scores in champion-decile bins) > max_score_psi (for a shadow,
//                only once its own state is warm: Challenger.coldUntil)
//   precision    delayed-label precision below the champion's (rollout/performance-feed.ts, a rule
//                passed in `extraRules`, as any further rule can be).
// On a breach the challenger stops serving here at once (before the next chunk), then rollback.ts
// deletes the alias, tags the version and publishes ROLLED_BACK; other instances drop it within one
// poll of the watcher. Bound: a breach is acted on at the first chunk after both roles have
// min_records in the window and `warmup_ms` have passed since the stage's first chunk here.
// Like with like: a shadow is compared with the champion's run on the same chunk; a canary with
// the champion's reference run on the canary's own records (rollout-chunk.ts), never with the
// other keys the champion served.
import { readFileSync } from 'node:fs';
import type { Logger } from '../logger.ts';
import { errorLine } from '../retry.ts';
import { psi } from '../drift/drift-stats.ts';
import type { ChunkRollout, RolloutObserver } from '../rollout/rollout-chunk.ts';
import type { RolloutMetrics } from '../rollout/rollout-metrics.ts';
import { DEFAULT_WARMUP_MS, type RolloutRules } from './policy.ts';
import type { RolloutStage } from '../rollout/rollout-state.ts';

export interface WindowStats {
  records: number;
  errors: number;
  errorRate: number;
  p99MsPerRecord: number;
  /** Records-weighted mean handle time per record (reported with a breach; the rule is on p99). Optional: callers that build stats themselves may leave it out. */
  meanMsPerRecord?: number;
  scores: number[];
}

export interface Breach {
  rule: string;
  detail: string;
  numbers: Record<string, number>;
}

/** A rule beyond the built-in three: judged on the window of both roles, null when it holds. */
export type RolloutRule = (o: { model: string; version: string; champion: WindowStats; challenger: WindowStats; rules: RolloutRules }) => Breach | null;

export interface RollbackRequest extends Breach {
  model: string;
  version: string;
  stage: string;
  detectedAt: number;
}

export interface RolloutControllerOptions {
  processor: string;
  rulesFor(model: string): RolloutRules;
  /** Registry + audit (rollback.ts); its failure is logged, the local stop stays. */
  rollBack(request: RollbackRequest): Promise<void>;
  extraRules?: RolloutRule[];
  metrics?: RolloutMetrics | null;
  log: Logger;
  now?: () => number;
}

interface Entry {
  at: number;
  role: 'champion' | 'challenger';
  records: number;
  errors: number;
  msPerRecord: number;
  scores: number[];
}

export class RolloutController implements RolloutObserver {
  private readonly windows = new Map<string, Entry[]>();
  /** When this instance saw each stage's first chunk: nothing is judged for `warmup_ms` after it. */
  private readonly firstSeen = new Map<string, number>();
  private readonly stopped = new Set<string>();
  /** Rollbacks in flight (tests and shutdown await them). */
  readonly pending = new Set<Promise<void>>();
  private readonly now: () => number;
  private readonly o: RolloutControllerOptions;

  constructor(o: RolloutControllerOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Whether this instance rolled the version back (the watcher does not serve it again). */
  rolledBack(model: string, version: string): boolean {
    return this.stopped.has(`${model}/${version}`);
  }

  observe(r: ChunkRollout): void {
    const c = r.challenger;
    const id = `${c.slot}/${c.version}`;
    if (this.stopped.has(id) || !c.active) return;
    // Windows and warm-up are per stage: a canary is not judged on what the version did in shadow
    // (whose scores came from a cold shadow state, which the shadow stage itself does not judge).
    const windowId = `${id}/${c.stage.stage}`;
    const rules = effectiveRules(this.o.rulesFor(c.slot), c.stage);
    const at = this.now();
    // Warm-up by time, not chunks: a cold start (sessions just loaded, JIT, a loaded machine) lasts
    // a while, not a number of chunks, and chunks come at any rate.
    const first = this.firstSeen.get(windowId) ?? (this.firstSeen.set(windowId, at), at);
    if (at - first < rules.warmup_ms) return;
    // The champion's side is what it did on the same records as the challenger: the chunk for a
    // shadow, its reference run for a canary (none: the chunk had no canary record, or it failed).
    const championSide = c.stage.stage === 'canary' ? r.reference : r.champion;
    if (!championSide) return;
    const entries = (this.windows.get(windowId) ?? []).filter((e) => e.at > at - rules.window_ms);
    const push = (role: Entry['role'], s: ChunkRollout['champion']) => s.records > 0 && entries.push({ at, role, records: s.records, errors: s.errors, msPerRecord: s.ms / s.records, scores: s.scores });
    push('champion', championSide);
    push('challenger', r.challengerSample);
    this.windows.set(windowId, entries);
    const champion = windowStats(entries.filter((e) => e.role === 'champion'));
    const challenger = windowStats(entries.filter((e) => e.role === 'challenger'));
    if (champion.records < rules.min_records || challenger.records < rules.min_records) return;
    // A shadow on state still filling scores other windows than the champion: its distribution is judged once warm.
    const breach = judge(champion, challenger, rules, { scores: Date.now() >= c.coldUntil })
      ?? this.o.extraRules?.map((rule) => rule({ model: c.slot, version: c.version, champion, challenger, rules })).find((b) => b !== null && !rules.off?.includes(b.rule)) ?? null;
    if (!breach) return;
    // Stop here first: the next chunk is the champion's alone, whatever the registry answers.
    c.active = false;
    this.stopped.add(id);
    this.windows.delete(windowId);
    this.o.metrics?.rollbacks.inc({ processor: this.o.processor, model: c.slot, rule: breach.rule });
    this.o.log.error({ model: c.slot, version: c.version, stage: c.stage.stage, rule: breach.rule, numbers: breach.numbers }, `ROLLBACK: challenger ${c.slot} version ${c.version} breached ${breach.rule} (${breach.detail}); the champion serves alone from the next chunk`);
    const p = this.o.rollBack({ ...breach, model: c.slot, version: c.version, stage: c.stage.stage, detectedAt: at })
      .catch((err: unknown) => this.o.log.error({ model: c.slot, version: c.version, err: errorLine(err) }, 'the rollback could not be recorded in the registry or the audit topic; this instance no longer serves the challenger'))
      .finally(() => this.pending.delete(p));
    this.pending.add(p);
  }
}

/** The three built-in rules, in order, less those the rules switch `off`; the first breached one, or null. */
export function judge(champion: WindowStats, challenger: WindowStats, rules: RolloutRules, o: { scores?: boolean } = {}): Breach | null {
  const numbers = {
    champion_records: champion.records, challenger_records: challenger.records,
    champion_error_rate: champion.errorRate, challenger_error_rate: challenger.errorRate,
    champion_p99_ms_per_record: champion.p99MsPerRecord, challenger_p99_ms_per_record: challenger.p99MsPerRecord,
    ...(champion.meanMsPerRecord !== undefined && challenger.meanMsPerRecord !== undefined ? { champion_mean_ms_per_record: champion.meanMsPerRecord, challenger_mean_ms_per_record: challenger.meanMsPerRecord } : {}),
  };
  const on = (rule: string) => !rules.off?.includes(rule);
  if (on('error_rate') && challenger.errorRate > champion.errorRate + rules.max_error_rate_increase) {
    return { rule: 'error_rate', detail: `error rate ${pct(challenger.errorRate)} vs champion ${pct(champion.errorRate)} (+${pct(rules.max_error_rate_increase)} allowed)`, numbers };
  }
  if (on('p99_latency') && champion.p99MsPerRecord > 0 && challenger.p99MsPerRecord > rules.max_p99_latency_ratio * champion.p99MsPerRecord) {
    return { rule: 'p99_latency', detail: `p99 ${challenger.p99MsPerRecord.toFixed(3)} ms per record vs champion ${champion.p99MsPerRecord.toFixed(3)} ms (x${rules.max_p99_latency_ratio} allowed)`, numbers };
  }
  const shift = o.scores === false || !on('score_psi') ? null : scorePsi(champion.scores, challenger.scores);
  if (shift !== null && shift > rules.max_score_psi) {
    return { rule: 'score_psi', detail: `PSI of the challenger's scores against the champion's ${shift.toFixed(3)} (> ${rules.max_score_psi})`, numbers: { ...numbers, score_psi: shift } };
  }
  return null;
}

/**
 * PSI of the challenger's scores over the champion's decile bins (drift-stats.ts psi). Edges that
 * repeat (many equal champion scores) are merged, so a constant champion has two bins, not ten empty
 * ones. Null when either side has no score (a processor without a prediction in its drift samples).
 */
export function scorePsi(champion: readonly number[], challenger: readonly number[]): number | null {
  if (champion.length === 0 || challenger.length === 0) return null;
  const sorted = [...champion].sort((a, b) => a - b);
  const edges = [...new Set([1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => sorted[Math.min(sorted.length - 1, Math.floor((d / 10) * sorted.length))]))];
  const bin = (v: number) => edges.filter((e) => e <= v).length;
  const counts = (xs: readonly number[]) => xs.reduce((c, v) => (c[bin(v)]++, c), new Array<number>(edges.length + 1).fill(0));
  const reference = counts(champion).map((n) => n / champion.length);
  return psi(reference, counts(challenger));
}

function windowStats(entries: Entry[]): WindowStats {
  const records = entries.reduce((n, e) => n + e.records, 0);
  const errors = entries.reduce((n, e) => n + e.errors, 0);
  // Per record, weighted: a chunk's time per record stands for each of its records.
  const byLatency = [...entries].sort((a, b) => a.msPerRecord - b.msPerRecord);
  let seen = 0;
  let p99 = 0;
  for (const e of byLatency) {
    seen += e.records;
    p99 = e.msPerRecord;
    if (seen >= 0.99 * records) break;
  }
  const meanMsPerRecord = records ? entries.reduce((t, e) => t + e.msPerRecord * e.records, 0) / records : 0;
  return { records, errors, errorRate: records ? errors / records : 0, p99MsPerRecord: p99, meanMsPerRecord, scores: entries.flatMap((e) => e.scores) };
}

const pct = (x: number) => `${(x * 100).toFixed(2)} %`;

const POLICY_FILE = new URL('../../../models/policy/policy.json', import.meta.url);

/** The rollout rules of a model: policy.json's `rollout` over rollout_defaults (a model without a policy gets the defaults). */
export function policyRolloutRules(file: URL | string = POLICY_FILE): (model: string) => RolloutRules {
  const raw = JSON.parse(readFileSync(file, 'utf8')) as { rollout_defaults?: Partial<RolloutRules>; models?: Record<string, { rollout?: Partial<RolloutRules> }> };
  return (model) => {
    const rules = { warmup_ms: DEFAULT_WARMUP_MS, ...raw.rollout_defaults, ...raw.models?.[model]?.rollout } as RolloutRules;
    for (const k of ['window_ms', 'min_records', 'warmup_ms', 'max_error_rate_increase', 'max_p99_latency_ratio', 'max_score_psi'] as const) {
      if (typeof rules[k] !== 'number') throw new Error(`${String(file)}: rollout rule ${k} of ${model} is not a number`);
    }
    return rules;
  };
}

/**
 * The policy's rules with the rollout tag's own for this walk over them (rollout-state.ts: the
 * steward writes the policy's `retrained` rules into the tag of a version it retrained).
 */
export function effectiveRules(rules: RolloutRules, stage: RolloutStage): RolloutRules {
  const o = stage.rules;
  if (!o) return rules;
  return { ...rules, ...o, off: [...new Set([...(rules.off ?? []), ...(o.off ?? [])])] };
}
