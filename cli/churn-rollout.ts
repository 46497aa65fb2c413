// `churn score`'s challenger: the registry's rollout of churn-30d-rf (alias `challenger` + tag
// streamscore.rollout, as the serving side reads them: rollout-state.ts parseRolloutTag) becomes
// score.py's --challenger-dir/--rollout/--fraction/--salt; score.py judges the batch on the policy's
// error_rate and score_psi rules (models/churn/rollout_rules.py, the twin of the controller's judge);
// the delayed-label precision rule is judged here before the batch, from models.performance.v1 with
// the runtime's own PerformanceFeed and rule. A breach is rolled back exactly as the controller does
// (rollout.ts rollBack: the alias deleted, streamscore.rollback.<n>, stage none, ROLLED_BACK).
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { ModelPerformance } from '../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { createKafka, brokerList } from '../streams/runtime/kafka-client.ts';
import type { Logger } from '../streams/runtime/logger.ts';
import { MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';
import { ModelResolver, type ResolvedSlot } from '../streams/runtime/model-registry/resolver.ts';
import { rollBack } from '../streams/runtime/model-registry/rollout.ts';
import { effectiveRules, policyRolloutRules, type Breach, type WindowStats } from '../streams/runtime/model-registry/rollout-controller.ts';
import type { RolloutRules } from '../streams/runtime/model-registry/policy.ts';
import { TAG } from '../streams/runtime/model-registry/register.ts';
import { PerformanceFeed, delayedLabelPrecisionRule } from '../streams/runtime/rollout/performance-feed.ts';
import { CHALLENGER_ALIAS, ROLLOUT_TAG, parseRolloutTag, type RolloutStage } from '../streams/runtime/rollout/rollout-state.ts';
import { readRanges } from '../streams/runtime/range-reader.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { lifecyclePublisherFromEnv } from './models.ts';

export interface ChurnChallenger {
  slot: ResolvedSlot;
  /** The registry version `challenger` points at (the rollback's subject). */
  version: string;
  stage: RolloutStage;
}

/** The rollout section of score.py's summary (models/churn/batch_rollout.py compare + score.py). */
export interface BatchRollout {
  stage: 'shadow' | 'canary';
  compared_users: number;
  judged: boolean;
  challenger_error: string | null;
  score_psi: number | null;
  breach: Breach | null;
  served?: Record<string, number>;
  shadow_output?: string;
  challenger_model?: { model_name: string; model_version: string } | null;
}

/** NAME@challenger and its stage when the registry holds a rollout; null when none (or no registry). */
export async function resolveChurnChallenger(client: MlflowClient | null, env: NodeJS.ProcessEnv, name: string, log: Logger): Promise<ChurnChallenger | null> {
  if (!client) return null;
  const model = await client.getRegisteredModel(name);
  const stage = parseRolloutTag(model?.tags?.find((t) => t.key === ROLLOUT_TAG)?.value);
  const version = model?.aliases?.find((a) => a.alias === CHALLENGER_ALIAS)?.version;
  if (!stage || !version) return null;
  const resolver = ModelResolver.fromEnv(env, log, CHALLENGER_ALIAS);
  const [slot] = await resolver.resolveAll('churn-score', [{ name, committedDir: '' }], new Map([[name, version]]));
  return { slot, version, stage };
}

/** The rules of this rollout: the policy's for the model with the rollout tag's own over them (as the controller judges). */
export const rolloutRulesFor = (model: string, stage: RolloutStage): RolloutRules => effectiveRules(policyRolloutRules()(model), stage);

/** score.py's arguments for a challenger; `rules` (a registry rollout's) replace score.py's reading of the policy. */
export const challengerArgs = (dir: string, stage: RolloutStage, rules?: RolloutRules): string[] =>
  ['--challenger-dir', dir, '--rollout', stage.stage, ...(stage.stage === 'canary' ? ['--fraction', String(stage.fraction), '--salt', stage.salt] : []),
    ...(rules ? ['--rollout-rules', JSON.stringify(rules)] : [])];

const modelVersionOf = (dir: string): string => (JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8')) as { model_version: string }).model_version;

/** Every record of models.performance.v1 (a few per version and day), decoded. */
export async function readPerformanceTallies(env: NodeJS.ProcessEnv, log: Logger): Promise<ModelPerformance[]> {
  const topic = TOPICS.modelPerformance.name;
  const kafka = createKafka('streamscore-churn-rollout', brokerList(env.KAFKA_BROKERS!), log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    if (!(await admin.listTopics()).includes(topic)) return [];
    const ranges = (await admin.fetchTopicOffsets(topic)).map((p) => ({ topic, partition: p.partition, start: Number(p.low), end: Number(p.high) }));
    const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!, { log }));
    serde.useReader(topic, loadSchema(TOPICS.modelPerformance.schema));
    const out: ModelPerformance[] = [];
    await readRanges({ kafka, admin, ranges, groupPrefix: 'churn-rollout-performance', log, onRecords: async (_tp, records) => {
      for (const r of records) out.push((await serde.decode(topic, r.value)) as ModelPerformance);
    } });
    return out;
  } finally {
    await admin.disconnect();
  }
}

/**
 * The runtime's precision rule (performance-feed.ts) on the tallies: the challenger's delayed-label
 * precision against the champion's on the days the challenger has judged predictions. The feed maps
 * registry versions through the versions' streamscore.model_version tags; here both versions' model
 * strings are known already (their model-meta.json), so its lookups answer them at once.
 */
export async function judgePrecision(tallies: ModelPerformance[], o: { model: string; registryVersion: string; championDir: string; challengerDir: string; rules: RolloutRules; log: Logger }): Promise<Breach | null> {
  if (o.rules.off?.includes('precision')) return null;
  const asked: Promise<unknown>[] = [];
  const tagged = (dir: string) => {
    const answer = Promise.resolve({ tags: [{ key: TAG.modelVersion, value: modelVersionOf(dir) }] });
    asked.push(answer);
    return answer;
  };
  const lookups = { getModelVersion: () => tagged(o.challengerDir), getModelVersionByAlias: () => tagged(o.championDir) } as unknown as MlflowClient;
  const feed = new PerformanceFeed({ client: lookups, log: o.log });
  for (const t of tallies) feed.add(t);
  feed.compare(o.model, o.registryVersion); // starts both lookups; the rule asks again once the feed holds their answers
  await Promise.all(asked);
  await new Promise((resolve) => setImmediate(resolve)); // the feed stores an answer in a callback after it
  const rule = delayedLabelPrecisionRule(feed);
  // The rule reads only the feed: the windows are not its input.
  const empty = { records: 0, errors: 0, errorRate: 0, p99MsPerRecord: 0, scores: [] } as unknown as WindowStats;
  return rule({ model: o.model, version: o.registryVersion, champion: empty, challenger: empty, rules: o.rules });
}

/** Rolls the challenger back in the registry and on models.lifecycle.v1, as the serving controller does. */
export async function rollBackChurnChallenger(client: MlflowClient, env: NodeJS.ProcessEnv, c: { model: string; version: string; stage: string }, breach: Breach, detectedAt = Date.now()): Promise<string> {
  const publisher = await lifecyclePublisherFromEnv(env);
  try {
    const event = await rollBack({ client, publisher, actor: `churn-score@${hostname()}` }, { ...breach, model: c.model, version: c.version, stage: c.stage, detectedAt });
    return event.event_id;
  } finally {
    await publisher.close().catch(() => undefined);
  }
}

/** One line on the batch's rollout for the user. */
export function describeBatchRollout(r: BatchRollout): string {
  const served = Object.entries(r.served ?? {}).map(([role, n]) => `${n} ${role}`).join(', ');
  const psi = r.score_psi === null ? 'n/a' : r.score_psi.toFixed(3);
  const verdict = r.challenger_error ? `challenger failed (${r.challenger_error}); ` : '';
  const judged = r.judged ? (r.breach ? `BREACH ${r.breach.rule}: ${r.breach.detail}` : 'rules hold') : `not judged (${r.compared_users} compared users < min_records)`;
  return `churn score: ${r.stage} of ${r.challenger_model?.model_version ?? 'the challenger'} on ${r.compared_users} users, score PSI ${psi}; ${verdict}${judged}; served: ${served}`;
}
