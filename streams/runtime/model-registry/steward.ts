// The retraining loop (`streamscore models steward`, docs/models.md "Retraining loop (steward)"):
// a drift alert or a performance breach about a champion starts one retraining per model per
// debounce period; the retrain command registers a new version; the steward then walks it through
// the same audited steps a person would take: promote --to challenger (gates), rollout shadow, a
// clean shadow window, rollout canary, a clean canary window, promote --to champion (gates again,
// audited AUTO_PROMOTED). Any failure or refusal ends the walk with RETRAIN_FAILED and the reason,
// and a challenger it put in rollout is taken out again. The runtime imports no pipeline: what a
// retraining runs for a model (a plant's `plant train`, a manual step) is the caller's `planFor`.
// State lives in the registry (steward-state.ts), so a restarted steward resumes its walks.
import type { Logger } from '../logger.ts';
import { errorLine } from '../retry.ts';
import { lifecycleEvent, type LifecycleEventType, type LifecyclePublisher } from './lifecycle-events.ts';
import type { MlflowClient, ModelVersion } from './mlflow-client.ts';
import type { ModelKind } from './model-kind.ts';
import type { Policy, RolloutOverrides } from './policy.ts';
import { promote, type Alias } from './promote.ts';
import { TAG, tagOf } from './register.ts';
import { runRetrainCommand, type CommandResult, type RetrainPlan } from './steward-command.ts';
import { readStewardState, unfinishedRetrainings, writeStewardState, type RetrainTrigger, type StewardState } from './steward-state.ts';
import { watchWindow, type WindowOutcome } from './steward-window.ts';
import { startRollout } from './rollout.ts';
import { CHALLENGER_ALIAS, ROLLOUT_TAG } from '../rollout/rollout-state.ts';

export interface StewardWindows {
  /** Clean shadow time before the canary starts. */
  shadowCleanMs: number;
  /** Clean canary time before automatic promotion; null: the walk stops there and a person promotes. */
  autoPromoteAfterMs: number | null;
  canaryFraction: number;
}

export interface StewardOptions {
  client: MlflowClient;
  publisher: LifecyclePublisher;
  kinds: readonly ModelKind[];
  policy: Policy;
  policySource: string;
  cacheDir: string;
  /** What retraining a model takes (from cli/: pipelines are not the runtime's to know). */
  planFor(model: { name: string; kind: string }): RetrainPlan;
  windowsFor(model: string): StewardWindows;
  /** One retraining per model per this period, counted from the last one's start (kept in the registry). */
  debounceMs: number;
  /** How often a window re-reads the alias, the rollout tag and the rollback tags. */
  pollMs?: number;
  /** Who, in the audit: e.g. models-steward/<host>. */
  actor: string;
  log: Logger;
  runCommand?: (plan: Extract<RetrainPlan, { manual: false }>, env: Record<string, string>) => Promise<CommandResult>;
  now?: () => number;
}

export type TriggerOutcome = 'started' | 'manual' | 'busy' | 'unknown-model' | 'not-champion' | 'no-policy' | 'debounced';

const rulesNote = (rules: RolloutOverrides | undefined) => (rules ? `; retrained-version rules ${JSON.stringify(rules)}` : '');

/** A step that stopped the walk: its name goes in RETRAIN_FAILED's rule. */
class WalkStop extends Error {
  readonly step: string;
  constructor(step: string, message: string) {
    super(message);
    this.step = step;
  }
}

export class Steward {
  private readonly o: StewardOptions;
  private readonly now: () => number;
  /** Walks running in this process, by model (one at a time per model). */
  readonly walks = new Map<string, Promise<void>>();

  constructor(o: StewardOptions) {
    this.o = o;
    this.now = o.now ?? Date.now;
  }

  /** Resumes the walks a previous steward left in an active phase (see steward-state.ts). */
  async resume(): Promise<number> {
    const left = await unfinishedRetrainings(this.o.client);
    for (const { name, state } of left) {
      this.o.log.warn({ model: name, phase: state.phase, candidate: state.candidate }, `resuming the retraining of ${name} left in phase ${state.phase}`);
      this.start(name, () => this.walk(name, state));
    }
    return left.length;
  }

  /** Handles one trigger; returns what it did (for logs and tests). The walk runs in the background. */
  async onTrigger(t: RetrainTrigger): Promise<TriggerOutcome> {
    const log = this.o.log.child({ model: t.model, rule: t.rule });
    if (this.walks.has(t.model)) return (log.info('a retraining of this model is under way; trigger ignored'), 'busy');
    const model = await this.o.client.getRegisteredModel(t.model);
    if (!model) return (log.warn(`no registered model ${t.model}: nothing to retrain`), 'unknown-model');
    const champion = await this.o.client.getModelVersionByAlias(t.model, 'champion');
    // Alerts about another version (the old champion after a promotion, a shadow) are not the champion's problem.
    if (!champion || tagOf(champion.tags, TAG.modelVersion) !== t.modelVersion) return (log.info({ version: t.modelVersion }, 'trigger is about a version that is not the champion; ignored'), 'not-champion');
    if (!this.o.policy.models[t.model]) return (log.warn(`no policy for ${t.model} in ${this.o.policySource}: a version could never be promoted, so it is not retrained`), 'no-policy');
    const last = await readStewardState(this.o.client, t.model);
    const at = this.now();
    if (last && at - last.started_at < this.o.debounceMs) return (log.info({ last: new Date(last.started_at).toISOString(), phase: last.phase }, `retrained less than ${this.o.debounceMs} ms ago; trigger ignored`), 'debounced');

    const plan = this.o.planFor({ name: t.model, kind: tagOf(model.tags, TAG.kind) ?? 'unknown' });
    const state: StewardState = { phase: plan.manual ? 'manual' : 'training', started_at: at, trigger: { source: t.source, rule: t.rule, detail: t.detail }, champion: champion.version, candidate: null, since: at };
    await writeStewardState(this.o.client, t.model, state);
    await this.audit('RETRAIN_STARTED', t.model, state, {
      version: champion.version, modelVersion: t.modelVersion, rule: t.rule,
      reason: `${t.source}: ${t.detail}; ${plan.manual ? `manual retraining needed: ${plan.reason}` : `retraining with: ${plan.description}`}`,
      numbers: { ...t.numbers, manual: plan.manual ? 1 : 0, debounce_ms: this.o.debounceMs },
    });
    if (plan.manual) return (log.warn(`manual retraining needed for ${t.model}: ${plan.reason}`), 'manual');
    this.start(t.model, () => this.walk(t.model, state, plan));
    return 'started';
  }

  /** Waits for every walk of this process (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.walks.size) await Promise.allSettled([...this.walks.values()]);
  }

  private start(name: string, work: () => Promise<void>): void {
    const p = work()
      .catch((err: unknown) => this.o.log.error({ model: name, err: errorLine(err) }, 'the retraining walk could not be recorded'))
      .finally(() => this.walks.delete(name));
    this.walks.set(name, p);
  }

  /** From `state.phase` to the end; a plan is given only when the retrain command is still to run. */
  private async walk(name: string, state: StewardState, plan?: RetrainPlan): Promise<void> {
    const log = this.o.log.child({ model: name });
    const set = async (phase: StewardState['phase'], patch: Partial<StewardState> = {}) => {
      Object.assign(state, patch, { phase, since: this.now() });
      await writeStewardState(this.o.client, name, state);
    };
    try {
      if (state.phase === 'training') {
        const version = plan && !plan.manual ? await this.retrain(name, state, plan) : await this.registeredSince(name, state.started_at);
        if (!version) throw new WalkStop('restart', `the steward stopped while the retrain command ran (started ${new Date(state.started_at).toISOString()}) and no version was registered since`);
        log.info({ version: version.version }, `retrained: version ${version.version}`);
        await this.promoteTo(name, state, version.version, 'challenger');
        await set('challenger', { candidate: version.version });
      }
      const candidate = state.candidate!;
      const windows = this.o.windowsFor(name);
      // The version was retrained because the data moved (or labels said the champion was wrong): it
      // is judged by the policy's retrained_rollout rules (score_psi off by default), which the tag
      // of this walk's rollout carries to every serving instance's controller.
      const retrained = this.o.policy.models[name]?.retrained_rollout;
      const rules = retrained && Object.keys(retrained).length ? retrained : undefined;
      if (state.phase === 'challenger') {
        await startRollout({ client: this.o.client, publisher: this.o.publisher, name, stage: 'shadow', rules, by: this.o.actor, reason: `retraining after ${state.trigger.rule}: shadow for ${windows.shadowCleanMs} ms${rulesNote(rules)}` });
        await set('shadow');
      }
      if (state.phase === 'shadow') {
        await this.clean(name, candidate, 'shadow', state.since + windows.shadowCleanMs);
        await startRollout({ client: this.o.client, publisher: this.o.publisher, name, stage: 'canary', fraction: windows.canaryFraction, rules, by: this.o.actor, reason: `shadow clean for ${windows.shadowCleanMs} ms${rulesNote(rules)}` });
        await set('canary');
      }
      if (state.phase === 'canary') {
        if (windows.autoPromoteAfterMs === null) {
          await set('awaiting-promotion');
          log.warn(`version ${candidate} is in canary; the policy has no auto_promote_after_ms, so a person promotes it (streamscore models promote ${name} ${candidate} --to champion)`);
          return;
        }
        await this.clean(name, candidate, 'canary', state.since + windows.autoPromoteAfterMs);
        await this.promoteTo(name, state, candidate, 'champion');
        // The version is champion now: its challenger alias and rollout stage have served their purpose.
        await this.o.client.setRegisteredModelTag(name, ROLLOUT_TAG, JSON.stringify({ stage: 'none' }));
        await this.o.client.deleteAlias(name, CHALLENGER_ALIAS);
        await set('done');
        log.info(`version ${candidate} is champion (AUTO_PROMOTED)`);
      }
    } catch (err) {
      const step = err instanceof WalkStop ? err.step : state.phase;
      const reason = err instanceof WalkStop ? err.message : `${state.phase}: ${errorLine(err)}`;
      log.error({ step, reason }, `retraining of ${name} stopped: ${reason}`);
      const withdrawn = await this.withdraw(name, state.candidate).catch((e: unknown) => `the challenger could not be withdrawn: ${errorLine(e)}`);
      await set('failed', { reason: withdrawn ? `${reason}; ${withdrawn}` : reason });
      await this.audit('RETRAIN_FAILED', name, state, { version: state.candidate ?? state.champion ?? '0', rule: step, reason: state.reason! });
    }
  }

  /** Runs the retrain command; the version it registered (newest created since the start), or a WalkStop. */
  private async retrain(name: string, state: StewardState, plan: Extract<RetrainPlan, { manual: false }>): Promise<ModelVersion> {
    const env = { STREAMSCORE_RETRAIN_MODEL: name, STREAMSCORE_RETRAIN_TRIGGER: state.trigger.rule, STREAMSCORE_RETRAIN_STARTED_AT: String(state.started_at) };
    const result = await (this.o.runCommand ?? runRetrainCommand)(plan, env);
    if (result.code !== 0) throw new WalkStop('retrain', `the retrain command exited ${result.code} after ${(result.ms / 1000).toFixed(1)} s: ${result.tail || '(no output)'}`);
    const version = await this.registeredSince(name, state.started_at);
    if (!version) throw new WalkStop('register', `the retrain command succeeded but registered no new version of ${name} (the same files as an existing version are not registered twice)`);
    return version;
  }

  /** The newest version of `name` created at or after `since` that is not the champion. */
  private async registeredSince(name: string, since: number): Promise<ModelVersion | null> {
    const page = await this.o.client.searchModelVersions({ filter: `name='${name.replaceAll("'", "\\'")}'`, maxResults: 200 });
    const fresh = page.items.filter((v) => v.creation_timestamp >= since && !(v.aliases ?? []).includes('champion'));
    return fresh.sort((a, b) => Number(b.version) - Number(a.version))[0] ?? null;
  }

  private async promoteTo(name: string, state: StewardState, version: string, to: Alias): Promise<void> {
    const r = await promote({
      client: this.o.client, kinds: this.o.kinds, policy: this.o.policy, policySource: this.o.policySource, name, version, to, by: this.o.actor, cacheDir: this.o.cacheDir, publisher: this.o.publisher,
      reason: to === 'challenger' ? `retrained after ${state.trigger.source} ${state.trigger.rule}: ${state.trigger.detail}` : `clean shadow and canary windows after retraining (${state.trigger.rule})`,
      auditAs: to === 'champion' ? 'AUTO_PROMOTED' : undefined,
    });
    if (!r.promoted) throw new WalkStop(to, `promote --to ${to} refused version ${version}: ${r.record.gates.filter((g) => !g.ok).map((g) => `${g.name}: ${g.detail}`).join('; ')}`);
  }

  /** Waits until `until`; a rollback or a moved alias before then stops the walk. */
  private async clean(name: string, candidate: string, stage: 'shadow' | 'canary', until: number): Promise<void> {
    const outcome: WindowOutcome = await watchWindow({ client: this.o.client, name, candidate, stage, until, pollMs: this.o.pollMs ?? 5_000, now: this.now });
    if (!outcome.clean) throw new WalkStop(stage, outcome.reason);
  }

  /** Takes the candidate out of rollout when it is still the challenger; a sentence for the audit, or null. */
  private async withdraw(name: string, candidate: string | null): Promise<string | null> {
    if (!candidate) return null;
    const challenger = await this.o.client.getModelVersionByAlias(name, CHALLENGER_ALIAS);
    if (challenger?.version !== candidate) return null;
    await this.o.client.setRegisteredModelTag(name, ROLLOUT_TAG, JSON.stringify({ stage: 'none' }));
    await this.o.client.deleteAlias(name, CHALLENGER_ALIAS);
    return `version ${candidate} withdrawn (alias ${CHALLENGER_ALIAS} deleted, stage none)`;
  }

  private async audit(event: LifecycleEventType, name: string, state: StewardState, e: { version: string; modelVersion?: string; rule: string; reason: string; numbers?: Record<string, number> }): Promise<void> {
    // n = the retraining's start: RETRAIN_STARTED and RETRAIN_FAILED of one retraining share it.
    await this.o.publisher.publish([lifecycleEvent({
      event, n: state.started_at, model_name: name, registry_version: e.version, model_version: e.modelVersion ?? null, actor: this.o.actor,
      reason: e.reason, rule: e.rule, numbers: e.numbers ?? {}, occurred_at: this.now(),
    })]);
  }
}
