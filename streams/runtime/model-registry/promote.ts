// `models promote NAME VERSION --to challenger|champion`: runs the policy gates on the version (and,
// for the evaluation, on the current champion), records who, when, why and the gate results as the
// version's tag streamscore.promotion.<n>, moves the alias only when every gate passed, and sends
// PROMOTED or REFUSED to the audit topic. The tag is written first: MLflow is the record, the topic
// its feed, and an event that could not be sent is reported (the command fails) but never lost from
// the registry.
import type { ModelLifecycleEvent } from '../../../schemas/generated/types.ts';
import { ArtifactCache } from './artifact-cache.ts';
import { runGates, type GateResult } from './gates.ts';
import { lifecycleEvent, type LifecyclePublisher } from './lifecycle-events.ts';
import type { MlflowClient, ModelVersion } from './mlflow-client.ts';
import { kindByName, type ModelKind } from './model-kind.ts';
import { policyFor, type Policy } from './policy.ts';
import { TAG, tagOf } from './register.ts';

export const ALIASES = ['challenger', 'champion'] as const;
export type Alias = (typeof ALIASES)[number];

/** The JSON of a streamscore.promotion.<n> tag. */
export interface PromotionRecord {
  to: string;
  by: string;
  at: string;
  reason: string;
  gates: GateResult[];
  promoted: boolean;
  previous_version: string | null;
}

export interface PromoteOptions {
  client: MlflowClient;
  kinds: readonly ModelKind[];
  policy: Policy;
  policySource: string;
  name: string;
  version: string;
  to: Alias;
  reason: string;
  by: string;
  cacheDir: string;
  publisher: LifecyclePublisher;
  progress?: (line: string) => void;
  now?: () => number;
  /** The steward's automatic promotion after a clean canary is audited as AUTO_PROMOTED instead of PROMOTED (same gates). */
  auditAs?: 'AUTO_PROMOTED';
}

export interface PromoteResult {
  promoted: boolean;
  record: PromotionRecord;
  tag: string;
  event: ModelLifecycleEvent;
}

/** The promotion records of a version, by n. */
export function promotionsOf(mv: ModelVersion): { n: number; record: PromotionRecord }[] {
  return (mv.tags ?? [])
    .filter((t) => t.key.startsWith(TAG.promotionPrefix))
    .map((t) => ({ n: Number(t.key.slice(TAG.promotionPrefix.length)), record: JSON.parse(t.value) as PromotionRecord }))
    .sort((a, b) => a.n - b.n);
}

export async function promote(o: PromoteOptions): Promise<PromoteResult> {
  const progress = o.progress ?? (() => {});
  const now = o.now ?? Date.now;
  if (!o.reason.trim()) throw new Error('--reason is required: the audit record says why');
  const model = await o.client.getRegisteredModel(o.name);
  if (!model) throw new Error(`no registered model ${o.name} (streamscore models list shows them)`);
  const mv = await o.client.getModelVersion(o.name, o.version);
  if (!mv) throw new Error(`${o.name} has no version ${o.version}`);
  const kindName = tagOf(model.tags, TAG.kind);
  if (!kindName) throw new Error(`${o.name} has no ${TAG.kind} tag: register it with streamscore models register`);
  const kind = kindByName(o.kinds, kindName);
  const policy = policyFor(o.policy, o.name, o.policySource);

  progress(`${o.name} version ${o.version}: fetching it into ${o.cacheDir} to check it`);
  // The serving side's cache: the same sha256-checked copy the runtime would load.
  const cache = new ArtifactCache({ client: o.client, dir: o.cacheDir });
  const dir = await cache.fetch(mv);
  const championMv = await o.client.getModelVersionByAlias(o.name, 'champion');
  const other = championMv && championMv.version !== mv.version;
  const championDir = other && policy.evaluation === 'recomputed' ? await cache.fetch(championMv) : undefined;
  const { gates, numbers } = await runGates({ client: o.client, kind, policy, candidate: { mv, dir }, champion: championMv ? { mv: championMv, dir: championDir } : null });
  const passed = gates.every((g) => g.ok);

  const previous = await o.client.getModelVersionByAlias(o.name, o.to);
  const n = promotionsOf(mv).reduce((max, p) => Math.max(max, p.n), 0) + 1;
  const at = now();
  const record: PromotionRecord = { to: o.to, by: o.by, at: new Date(at).toISOString(), reason: o.reason, gates, promoted: passed, previous_version: previous?.version ?? null };
  const tag = `${TAG.promotionPrefix}${n}`;
  await o.client.setModelVersionTag(o.name, o.version, tag, JSON.stringify(record));
  if (passed) await o.client.setAlias(o.name, o.to, o.version);

  const event = lifecycleEvent({
    event: passed ? (o.auditAs ?? 'PROMOTED') : 'REFUSED', n, model_name: o.name, registry_version: o.version, model_version: tagOf(mv.tags, TAG.modelVersion) ?? null,
    alias: o.to, previous_version: previous?.version ?? null, actor: o.by, reason: o.reason, gates, numbers, occurred_at: at,
    rule: passed ? null : gates.filter((g) => !g.ok).map((g) => g.name).join(','),
  });
  try {
    await o.publisher.publish([event]);
  } catch (err) {
    throw new Error(`${passed ? `${o.name}@${o.to} now points at version ${o.version}` : 'the promotion was refused'} and recorded as tag ${tag}, but the audit event was not sent to models.lifecycle.v1: ${(err as Error).message}`, { cause: err });
  }
  return { promoted: passed, record, tag, event };
}
