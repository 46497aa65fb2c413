// `churn score`'s model and drift alerts. The model: the committed model's registered name at
// `champion`, resolved by the runtime's own resolver into the sha256-checked artifact cache (the
// directory score.py gets as --model-dir), as a streaming processor resolves its slots. The alerts:
// the DriftAlert records score.py judged for the day's batch (models/churn/drift.py), sent to
// models.drift-alerts.v1 as the processors' drift publisher sends theirs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../infra/stack/config.ts';
import type { DriftAlert } from '../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../schemas/topics.ts';
import { createKafka, brokerList } from '../streams/runtime/kafka-client.ts';
import type { Logger } from '../streams/runtime/logger.ts';
import { MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';
import { ModelResolver, servedAs, type ResolvedSlot } from '../streams/runtime/model-registry/resolver.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { AvroSerde } from '../streams/runtime/serde.ts';
import { ensureTopics } from '../streams/runtime/topics-admin.ts';

export const COMMITTED_CHURN_DIR = join(REPO_ROOT, 'models', 'churn', 'artifacts');

/** The registered name of the churn model: the committed meta's model_name (what `models seed` registered). */
export function churnModelName(dir = COMMITTED_CHURN_DIR): string {
  const meta = JSON.parse(readFileSync(join(dir, 'model-meta.json'), 'utf8')) as { model_name?: unknown };
  if (typeof meta.model_name !== 'string' || !meta.model_name) throw new Error(`${dir}/model-meta.json has no model_name`);
  return meta.model_name;
}

/**
 * The directory `churn score` scores with: NAME@champion from the registry, or the committed one.
 * An MLFLOW_TRACKING_URI the user set must answer (serving the committed model in place of a
 * promoted one would silently undo the promotion, as the resolver refuses for processors); the
 * stack's default is used only when it answers, so a laptop without `infra up` scores as before.
 */
export async function resolveChurnModel(env: NodeJS.ProcessEnv, userEnv: NodeJS.ProcessEnv, log: Logger): Promise<{ slot: ResolvedSlot; why: string }> {
  const name = churnModelName();
  const uri = env.MLFLOW_TRACKING_URI?.trim();
  const explicit = Boolean(userEnv.MLFLOW_TRACKING_URI?.trim());
  let registry = uri ? env : { ...env, MLFLOW_TRACKING_URI: '' };
  let why = uri ? `registry ${uri}` : 'MLFLOW_TRACKING_URI unset';
  if (uri && !explicit) {
    const probe = new MlflowClient({ trackingUri: uri, attempts: 1, requestTimeoutMs: 3_000 });
    const answers = await probe.getExperimentByName('Default').then(() => true, () => false);
    if (!answers) {
      registry = { ...env, MLFLOW_TRACKING_URI: '' };
      why = `no MLflow answers at the stack's ${uri}`;
    }
  }
  const resolver = ModelResolver.fromEnv(registry, log);
  const [slot] = await resolver.resolveAll('churn-score', [{ name, committedDir: COMMITTED_CHURN_DIR }]);
  return { slot, why };
}

export const describeChurnModel = (r: { slot: ResolvedSlot; why: string }): string =>
  `churn score: model ${servedAs(r.slot)}${r.slot.version === null ? ` (${r.why})` : ''}`;

/** The DriftAlert records of a score.py summary (`drift.alerts`), or none when it judged no drift. */
export function driftAlertsOf(summary: { drift?: { alerts?: DriftAlert[] } | null }): DriftAlert[] {
  return summary.drift?.alerts ?? [];
}

/** After `churn score`: one line on the batch's drift, and its alerts sent unless `env` is null (--no-publish). */
export async function publishBatchDrift(summaryFile: string, env: NodeJS.ProcessEnv | null, log: Logger, say: (line: string) => void): Promise<void> {
  const summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { drift?: { features_judged?: number; alerts?: DriftAlert[]; report?: string } | null };
  if (!summary.drift) {
    say('churn score: drift not checked (the model has no reference.json)');
    return;
  }
  const alerts = driftAlertsOf(summary);
  if (env) await publishDriftAlerts(alerts, env, log);
  const what = alerts.map((a) => `${a.state} ${a.statistic} ${a.feature}`).join(', ');
  const where = env ? `-> ${TOPICS.driftAlerts.name}` : '(not sent: --no-publish)';
  say(`churn score: drift of ${summary.drift.features_judged ?? 0} features judged (${summary.drift.report}): ${alerts.length ? `${what} ${where}` : 'no alert'}`);
}

/** Sends the alerts to models.drift-alerts.v1, keyed by model, in order (RAISED before its CLEARED). */
export async function publishDriftAlerts(alerts: DriftAlert[], env: NodeJS.ProcessEnv, log: Logger): Promise<void> {
  if (alerts.length === 0) return;
  const topic = TOPICS.driftAlerts;
  const kafka = createKafka('streamscore-churn-drift', brokerList(env.KAFKA_BROKERS!), log);
  const admin = kafka.admin();
  await admin.connect();
  try {
    await ensureTopics(admin, [topic], log);
  } finally {
    await admin.disconnect();
  }
  const serde = new AvroSerde(new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!));
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  try {
    await producer.send({ topic: topic.name, acks: -1, messages: alerts.map((a) => ({ key: a.model_name, value: serde.encode(topic.name, a) })) });
  } finally {
    await producer.disconnect();
  }
}
