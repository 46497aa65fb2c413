// The registry side of a rollout: `models rollout NAME --stage shadow|canary|none` (startRollout)
// and the controller's automatic rollback (rollBack). MLflow is the record (the tag, the alias, a
// version tag per rollback), models.lifecycle.v1 its feed: SHADOW_STARTED, CANARY_STARTED,
// ROLLED_BACK. Rollback is idempotent across instances: the alias is deleted only while it still
// points at the breached version, and each instance's event is numbered by the rollback tags it
// found, so a duplicate from a second instance is visible (same model/version, another n) and harmless.
import type { ModelLifecycleEvent } from '../../../schemas/generated/types.ts';
import { CHALLENGER_ALIAS, ROLLBACK_TAG_PREFIX, ROLLOUT_TAG, rolloutKey, type RolloutStage } from '../rollout/rollout-state.ts';
import { lifecycleEvent, type LifecyclePublisher } from './lifecycle-events.ts';
import type { MlflowClient } from './mlflow-client.ts';
import type { ModelVersion } from './mlflow-types.ts';
import { TAG, tagOf } from './register.ts';
import type { RollbackRequest } from './rollout-controller.ts';

export interface StartRolloutOptions {
  client: MlflowClient;
  publisher: LifecyclePublisher;
  name: string;
  stage: 'shadow' | 'canary' | 'none';
  /** Canary only: the share of entity keys the challenger serves, in (0, 1). */
  fraction?: number;
  /** This rollout's own rules over the policy's, kept in the tag (the steward's for a version it retrained). */
  rules?: RolloutStage['rules'];
  by: string;
  reason?: string;
  now?: () => number;
}

export interface StartRolloutResult {
  version: string;
  stage: RolloutStage | null;
  event: ModelLifecycleEvent | null;
}

/** Sets streamscore.rollout for the version `challenger` points at, and audits it. */
export async function startRollout(o: StartRolloutOptions): Promise<StartRolloutResult> {
  const mv = await o.client.getModelVersionByAlias(o.name, CHALLENGER_ALIAS);
  if (!mv) throw new Error(`${o.name} has no ${CHALLENGER_ALIAS} alias: promote a version first (streamscore models promote ${o.name} VERSION --to challenger)`);
  let stage: RolloutStage | null;
  if (o.stage === 'canary') {
    if (o.fraction === undefined || !(o.fraction > 0 && o.fraction < 1)) throw new Error(`--fraction must be a number in (0, 1) for a canary, got ${o.fraction}`);
    // The salt is the challenger's version: each canary hashes a fresh set of keys.
    stage = { stage: 'canary', fraction: o.fraction, salt: mv.version, ...(o.rules ? { rules: o.rules } : {}) };
  } else stage = o.stage === 'shadow' ? { stage: 'shadow', ...(o.rules ? { rules: o.rules } : {}) } : null;
  const at = (o.now ?? Date.now)();
  await o.client.setRegisteredModelTag(o.name, ROLLOUT_TAG, stage ? rolloutKey(stage) : JSON.stringify({ stage: 'none' }));
  if (!stage) return { version: mv.version, stage, event: null };
  const event = lifecycleEvent({
    event: stage.stage === 'shadow' ? 'SHADOW_STARTED' : 'CANARY_STARTED', n: at, model_name: o.name, registry_version: mv.version,
    model_version: tagOf(mv.tags, TAG.modelVersion) ?? null, alias: CHALLENGER_ALIAS, actor: o.by, reason: o.reason ?? null,
    numbers: stage.stage === 'canary' ? { fraction: stage.fraction } : {}, occurred_at: at,
  });
  try {
    await o.publisher.publish([event]);
  } catch (err) {
    throw new Error(`${o.name} version ${mv.version} is in ${stage.stage} (tag ${ROLLOUT_TAG}), but the audit event was not sent to models.lifecycle.v1: ${(err as Error).message}`, { cause: err });
  }
  return { version: mv.version, stage, event };
}

/** The rollback records of a version, by n. */
export function rollbacksOf(mv: ModelVersion): { n: number; record: Record<string, unknown> }[] {
  return (mv.tags ?? [])
    .filter((t) => t.key.startsWith(ROLLBACK_TAG_PREFIX))
    .map((t) => ({ n: Number(t.key.slice(ROLLBACK_TAG_PREFIX.length)), record: JSON.parse(t.value) as Record<string, unknown> }))
    .sort((a, b) => a.n - b.n);
}

export interface RollBackOptions {
  client: MlflowClient;
  publisher: LifecyclePublisher;
  /** Who: the controller and its instance. */
  actor: string;
  now?: () => number;
}

/**
 * Deletes `challenger` (if it still points at the breached version), records the rule and numbers as
 * version tag streamscore.rollback.<n>, sets the rollout stage to none and publishes ROLLED_BACK.
 */
export async function rollBack(o: RollBackOptions, r: RollbackRequest): Promise<ModelLifecycleEvent> {
  const at = (o.now ?? Date.now)();
  const current = await o.client.getModelVersionByAlias(r.model, CHALLENGER_ALIAS);
  const ours = current?.version === r.version;
  if (ours) await o.client.deleteAlias(r.model, CHALLENGER_ALIAS);
  const mv = await o.client.getModelVersion(r.model, r.version);
  const n = (mv ? rollbacksOf(mv).reduce((max, b) => Math.max(max, b.n), 0) : 0) + 1;
  const record = { rule: r.rule, detail: r.detail, numbers: r.numbers, stage: r.stage, detected_at: new Date(r.detectedAt).toISOString(), at: new Date(at).toISOString(), by: o.actor, alias_deleted: ours };
  if (mv) await o.client.setModelVersionTag(r.model, r.version, `${ROLLBACK_TAG_PREFIX}${n}`, JSON.stringify(record));
  // Only the instance that removed the alias resets the stage: a newer challenger's stage is not ours to touch.
  if (ours) await o.client.setRegisteredModelTag(r.model, ROLLOUT_TAG, JSON.stringify({ stage: 'none' }));
  const event = lifecycleEvent({
    event: 'ROLLED_BACK', n, model_name: r.model, registry_version: r.version, model_version: mv ? tagOf(mv.tags, TAG.modelVersion) ?? null : null,
    alias: CHALLENGER_ALIAS, previous_version: r.version, actor: o.actor, reason: `${r.stage}: ${r.detail}`, rule: r.rule,
    numbers: { ...r.numbers, detected_at_ms: r.detectedAt }, occurred_at: at,
  });
  await o.publisher.publish([event]);
  return event;
}
