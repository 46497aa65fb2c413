// What the retraining steward remembers, kept in the registry rather than in its memory: the
// registered-model tag streamscore.steward holds the current (or last) retraining of the model, so a
// restarted steward knows what it was doing, and the debounce survives restarts. MLflow is the
// record; models.lifecycle.v1 is the feed (RETRAIN_STARTED, PROMOTED, SHADOW_STARTED, ...).
import type { MlflowClient } from './mlflow-client.ts';
import type { RegisteredModel } from './mlflow-types.ts';
import { tagOf } from './register.ts';

export const STEWARD_TAG = 'streamscore.steward';

/**
 * training: the retrain command runs; challenger: promoted to challenger, no stage yet; shadow and
 * canary: waiting for a clean window; awaiting-promotion: a clean canary and no automatic
 * promotion in the policy (a person promotes); done, failed, manual: over.
 */
export type StewardPhase = 'training' | 'challenger' | 'shadow' | 'canary' | 'awaiting-promotion' | 'done' | 'failed' | 'manual';
/** The phases a restarted steward picks up again. */
export const ACTIVE_PHASES: readonly StewardPhase[] = ['training', 'challenger', 'shadow', 'canary'];

/** What started a retraining: a drift alert or a performance breach (or anything a caller adds). */
export interface RetrainTrigger {
  model: string;
  /** The model version (model-meta.json) the alert or tally is about: only the champion's counts. */
  modelVersion: string;
  source: 'drift' | 'performance' | 'manual';
  /** e.g. drift:temperature_ema_6h/KS or precision. */
  rule: string;
  detail: string;
  numbers: Record<string, number>;
  /** When the trigger was produced (detected_at, computed_at): stale ones are ignored. */
  at: number;
}

export interface StewardState {
  phase: StewardPhase;
  /** When the retraining started: the debounce and the lifecycle events' n count from it. */
  started_at: number;
  trigger: Pick<RetrainTrigger, 'source' | 'rule' | 'detail'>;
  /** The champion version that drifted, and the registry version the retraining produced. */
  champion: string | null;
  candidate: string | null;
  /** When the current phase began: a restarted steward waits only what is left of a window. */
  since: number;
  reason?: string;
}

export function parseStewardState(model: RegisteredModel | null): StewardState | null {
  const raw = model ? tagOf(model.tags, STEWARD_TAG) : undefined;
  if (!raw) return null;
  try {
    const s = JSON.parse(raw) as StewardState;
    return typeof s.phase === 'string' && typeof s.started_at === 'number' ? s : null;
  } catch {
    return null; // a hand-edited tag is not fatal: the steward starts afresh for that model
  }
}

export async function readStewardState(client: MlflowClient, name: string): Promise<StewardState | null> {
  return parseStewardState(await client.getRegisteredModel(name));
}

export async function writeStewardState(client: MlflowClient, name: string, state: StewardState): Promise<void> {
  await client.setRegisteredModelTag(name, STEWARD_TAG, JSON.stringify(state));
}

/** Every registered model whose retraining was left in an active phase (paged through the registry). */
export async function unfinishedRetrainings(client: MlflowClient): Promise<{ name: string; state: StewardState }[]> {
  const out: { name: string; state: StewardState }[] = [];
  let pageToken: string | undefined;
  do {
    const page = await client.searchRegisteredModels({ maxResults: 100, pageToken });
    for (const m of page.items) {
      const state = parseStewardState(m);
      if (state && ACTIVE_PHASES.includes(state.phase)) out.push({ name: m.name, state });
    }
    pageToken = page.nextPageToken;
  } while (pageToken);
  return out;
}
