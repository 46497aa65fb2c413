// `models seed`: the committed model folders become version 1 of their registered models, with
// alias champion, the first time a tracking server sees them. A model already registered is left
// alone (its champion may since have moved), so seeding again is a cheap no-op.
import { lifecycleEvent, type LifecyclePublisher } from './lifecycle-events.ts';
import type { MlflowClient } from './mlflow-client.ts';
import { kindByName, type ModelKind } from './model-kind.ts';
import type { PromotionRecord } from './promote.ts';
import { TAG, registerModel } from './register.ts';

export const SEED_ACTOR = 'streamscore models seed';

export interface SeedResult {
  name: string;
  dir: string;
  /** seeded: version 1 + champion now; skipped: the model was registered before. */
  outcome: 'seeded' | 'skipped';
  version?: string;
  seconds: number;
}

export async function seedModels(o: {
  client: MlflowClient;
  kinds: readonly ModelKind[];
  models: readonly { kind: string; dir: string }[];
  codeVersionOf: (dir: string) => string;
  publisher?: LifecyclePublisher;
  progress?: (line: string) => void;
}): Promise<SeedResult[]> {
  const progress = o.progress ?? (() => {});
  const results: SeedResult[] = [];
  for (const m of o.models) {
    const started = performance.now();
    const kind = kindByName(o.kinds, m.kind);
    const { name } = kind.describe(m.dir);
    if (await o.client.getRegisteredModel(name)) {
      progress(`${name}: registered already, not seeded`);
      results.push({ name, dir: m.dir, outcome: 'skipped', seconds: (performance.now() - started) / 1000 });
      continue;
    }
    const r = await registerModel(o.client, { kind, dir: m.dir, codeVersion: o.codeVersionOf(m.dir), progress });
    const at = new Date();
    const record: PromotionRecord = { to: 'champion', by: SEED_ACTOR, at: at.toISOString(), reason: 'the committed artifact, seeded as the first champion', gates: [], promoted: true, previous_version: null };
    await o.client.setModelVersionTag(name, r.version, `${TAG.promotionPrefix}1`, JSON.stringify(record));
    await o.client.setAlias(name, 'champion', r.version);
    await o.publisher?.publish([
      lifecycleEvent({ event: 'REGISTERED', n: 1, model_name: name, registry_version: r.version, model_version: r.modelVersion, actor: SEED_ACTOR, occurred_at: at.getTime() }),
      lifecycleEvent({ event: 'PROMOTED', n: 1, model_name: name, registry_version: r.version, model_version: r.modelVersion, alias: 'champion', actor: SEED_ACTOR, reason: record.reason, occurred_at: at.getTime() }),
    ]);
    progress(`${name}: version ${r.version} is champion`);
    results.push({ name, dir: m.dir, outcome: 'seeded', version: r.version, seconds: (performance.now() - started) / 1000 });
  }
  return results;
}
