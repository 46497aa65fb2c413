// `streamscore models register | seed | promote | rollout | list | show | history`: the MLflow model registry
// of the project's models (docs/models.md "Registering and seeding", "Approvals"). Logic lives in
// streams/runtime/model-registry/; this file reads arguments, picks the kinds (cli/model-kinds.ts)
// and the services (MLFLOW_TRACKING_URI, Kafka for the audit topic) and prints.
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { DEFAULT_MODEL_CACHE_DIR } from '../streams/runtime/model-registry/artifact-cache.ts';
import { kafkaLifecyclePublisher, lifecycleEvent, type LifecyclePublisher } from '../streams/runtime/model-registry/lifecycle-events.ts';
import { MlflowClient, mlflowClientFromEnv } from '../streams/runtime/model-registry/mlflow-client.ts';
import { kindByName } from '../streams/runtime/model-registry/model-kind.ts';
import { loadPolicy } from '../streams/runtime/model-registry/policy.ts';
import { ALIASES, promote, type Alias } from '../streams/runtime/model-registry/promote.ts';
import { registerModel, type RegisterResult } from '../streams/runtime/model-registry/register.ts';
import { seedModels } from '../streams/runtime/model-registry/seed.ts';
import { startRollout } from '../streams/runtime/model-registry/rollout.ts';
import { policyRolloutRules } from '../streams/runtime/model-registry/rollout-controller.ts';
import { COMMITTED_MODELS, MODEL_KINDS, codeVersionOf } from './model-kinds.ts';
import { printHistory, printList, printShow } from './models-print.ts';
import { serviceEnv } from './env.ts';

/** Kept here, not imported from models-steward.ts, which imports this file (no cycle at load). */
const STEWARD_USAGE_LINE = `  steward [--debounce 6h] [--poll 5s] [--policy FILE] [--min-precision 0.5]
                           the retraining loop: drift alerts and precision breaches retrain a champion, then walk
                           the new version challenger -> shadow -> canary -> champion (details: models steward --help)`;

const USAGE = `usage: streamscore models <command> [options]

  register KIND DIR        one MLflow run for the model folder DIR (params, metrics, data lineage, the folder
                           + MLmodel signature) and a registered version; KIND: ${MODEL_KINDS.map((k) => k.kind).join(' | ')}.
                           The same files twice: the existing version is printed, nothing written
  seed                     each committed model folder becomes version 1 + alias champion, once
  promote NAME VERSION --to challenger|champion --reason "..." [--by WHO] [--policy FILE]
                           runs the policy gates (signature, evaluation, card; models/policy/policy.json),
                           records them as tag streamscore.promotion.<n>, moves the alias only when all pass,
                           and sends PROMOTED or REFUSED to models.lifecycle.v1 (exit 3 when refused)
  rollout NAME --stage shadow|canary|none [--fraction F] [--reason "..."] [--by WHO]
                           serves NAME@challenger beside the champion: shadow (outputs to <topic>.shadow only) or
                           canary (the entity keys hashed into fraction F, default the policy's); sets tag
                           streamscore.rollout and sends SHADOW_STARTED / CANARY_STARTED; the runtime rolls back
                           a challenger that breaches the policy's rollout rules
${STEWARD_USAGE_LINE}
  list                     registered models and their aliases
  show NAME                every version: model version, aliases, run, code version, promotions
  history NAME             every promotion record: who, when, why, gate results

common: --json  print JSON instead of tables
env:    MLFLOW_TRACKING_URI (default: the stack's), KAFKA_BROKERS / SCHEMA_REGISTRY_URL (audit topic),
        STREAMSCORE_OPERATOR (who promotes when --by is not given; else the OS user)
`;

const OPTIONS = {
  to: { type: 'string' },
  reason: { type: 'string' },
  by: { type: 'string' },
  policy: { type: 'string' },
  stage: { type: 'string' },
  fraction: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export const POLICY_FILE = join(REPO_ROOT, 'models', 'policy', 'policy.json');
/** Downloaded versions (checked against their sha256 tags): the runtime's cache, shared with the processors. */
const modelCacheDir = () => process.env.STREAMSCORE_MODEL_CACHE_DIR?.trim() || DEFAULT_MODEL_CACHE_DIR;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

function client(): MlflowClient {
  return mlflowClientFromEnv(serviceEnv());
}

/** The audit topic's producer on the configured Kafka and schema registry. */
export async function lifecyclePublisherFromEnv(env: NodeJS.ProcessEnv = serviceEnv()): Promise<LifecyclePublisher> {
  const log = createLogger({ component: 'models' }).child({}, { level: process.env.LOG_LEVEL ?? 'warn' });
  const kafka = createKafka('streamscore-models', brokerList(env.KAFKA_BROKERS!), log);
  return kafkaLifecyclePublisher({ kafka, store: new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!), log });
}

async function withPublisher<T>(work: (p: LifecyclePublisher) => Promise<T>): Promise<T> {
  let publisher: LifecyclePublisher;
  try {
    publisher = await lifecyclePublisherFromEnv();
  } catch (e) {
    throw new Error(`cannot reach the audit topic models.lifecycle.v1 (KAFKA_BROKERS / SCHEMA_REGISTRY_URL; \`streamscore infra up\`): ${(e as Error).message}`, { cause: e });
  }
  try {
    return await work(publisher);
  } finally {
    await publisher.close().catch(() => {});
  }
}

/** Registers DIR and sends REGISTERED when a version was created. Shared with the training hooks. */
export async function registerFolder(kind: string, dir: string, mlflow: MlflowClient = client()): Promise<RegisterResult> {
  const result = await registerModel(mlflow, { kind: kindByName(MODEL_KINDS, kind), dir: resolve(dir), codeVersion: codeVersionOf(dir), progress: err });
  if (result.created) {
    await withPublisher((p) => p.publish([lifecycleEvent({ event: 'REGISTERED', n: 1, model_name: result.name, registry_version: result.version, model_version: result.modelVersion, actor: operator(), reason: `streamscore models register ${kind} ${dir}` })]));
  }
  return result;
}

function operator(by?: string): string {
  return by?.trim() || process.env.STREAMSCORE_OPERATOR?.trim() || userInfo().username;
}

/**
 * For `plant train` and `churn train`: registers the new folder when a tracking server answers;
 * otherwise one line says the model was not registered (the committed folder still serves).
 */
export async function registerAfterTraining(kind: string, dir: string, say: (line: string) => void = out): Promise<void> {
  const uri = serviceEnv().MLFLOW_TRACKING_URI;
  const mlflow = uri ? new MlflowClient({ trackingUri: uri, attempts: 1, requestTimeoutMs: 3_000 }) : null;
  const answers = mlflow !== null && (await mlflow.getExperimentByName('Default').then(() => true, () => false));
  if (!answers) {
    say(`model in ${dir} not registered: no MLflow tracking server answers at ${uri ?? '(MLFLOW_TRACKING_URI unset)'} (streamscore infra up, then streamscore models register ${kind} ${dir})`);
    return;
  }
  const r = await registerFolder(kind, dir);
  say(`registered ${r.name} version ${r.version} (${r.modelVersion})${r.created ? '' : ', already registered'}: streamscore models promote ${r.name} ${r.version} --to challenger --reason "..."`);
}

/**
 * For `infra up` and `npm run demo`: seeds the committed models once the stack is up, so the MLflow
 * UI shows every shipped model (runs, versions, champion aliases). ~3.5 s and 117 MB on a fresh
 * server, ~0.1 s per model when seeded before. A failure is one line, never a failed `infra up`.
 */
export async function seedAfterUp(say: (line: string) => void): Promise<void> {
  const uri = serviceEnv().MLFLOW_TRACKING_URI;
  try {
    const started = performance.now();
    const results = await withPublisher((publisher) => seedModels({ client: client(), kinds: MODEL_KINDS, models: COMMITTED_MODELS, codeVersionOf, publisher }));
    const seeded = results.filter((r) => r.outcome === 'seeded').length;
    say(`models: ${seeded} seeded, ${results.length - seeded} registered before (${((performance.now() - started) / 1000).toFixed(1)} s); MLflow UI ${uri}/#/models`);
  } catch (e) {
    say(`models: not seeded (${(e as Error).message}); run \`streamscore models seed\` once MLflow (${uri}) and Kafka answer`);
  }
}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  // The steward has options of its own (durations, thresholds), parsed in models-steward.ts.
  if (command === 'steward') return (await import('./models-steward.ts')).run(rest);
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true });
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const need = (n: number, what: string): boolean => {
    if (positionals.length === n) return true;
    err(`models ${command} takes ${what}\n\n${USAGE}`);
    return false;
  };
  switch (command) {
    case 'register': {
      if (!need(2, 'KIND DIR')) return 2;
      const r = await registerFolder(positionals[0], positionals[1]);
      out(values.json ? JSON.stringify({ name: r.name, version: r.version, model_version: r.modelVersion, run_id: r.runId, created: r.created }) : `${r.name} version ${r.version} (${r.modelVersion}), run ${r.runId}${r.created ? '' : ' (already registered: nothing written)'}`);
      return 0;
    }
    case 'seed': {
      if (!need(0, 'no arguments')) return 2;
      const started = performance.now();
      const results = await withPublisher((publisher) => seedModels({ client: client(), kinds: MODEL_KINDS, models: COMMITTED_MODELS, codeVersionOf, publisher, progress: err }));
      if (values.json) out(JSON.stringify({ results, seconds: (performance.now() - started) / 1000 }));
      else for (const r of results) out(`${r.name.padEnd(28)} ${r.outcome === 'seeded' ? `seeded as version ${r.version}, champion` : 'registered already'} (${r.seconds.toFixed(1)} s)`);
      return 0;
    }
    case 'promote': {
      if (!need(2, 'NAME VERSION')) return 2;
      if (!ALIASES.includes(values.to as Alias) || !values.reason?.trim()) {
        err(`models promote needs --to ${ALIASES.join('|')} and --reason "..."\n\n${USAGE}`);
        return 2;
      }
      const policyFile = values.policy ? resolve(values.policy) : POLICY_FILE;
      const policy = loadPolicy(policyFile, REPO_ROOT);
      const result = await withPublisher((publisher) => promote({
        client: client(), kinds: MODEL_KINDS, policy, policySource: policyFile, name: positionals[0], version: positionals[1], to: values.to as Alias,
        reason: values.reason!, by: operator(values.by), cacheDir: modelCacheDir(), publisher, progress: err,
      }));
      if (values.json) out(JSON.stringify({ tag: result.tag, ...result.record, event_id: result.event.event_id }));
      else {
        for (const g of result.record.gates) out(`  ${g.ok ? 'PASS' : 'FAIL'} ${g.name.padEnd(10)} ${g.detail}`);
        out(result.promoted ? `${positionals[0]}@${values.to} -> version ${positionals[1]} (recorded as ${result.tag}, event ${result.event.event_id})` : `REFUSED: ${positionals[0]}@${values.to} not moved (recorded as ${result.tag}, event ${result.event.event_id})`);
      }
      return result.promoted ? 0 : 3;
    }
    case 'rollout': {
      if (!need(1, 'NAME')) return 2;
      const stage = values.stage;
      if (stage !== 'shadow' && stage !== 'canary' && stage !== 'none') {
        err(`models rollout needs --stage shadow|canary|none\n\n${USAGE}`);
        return 2;
      }
      const fraction = values.fraction === undefined ? policyRolloutRules(values.policy ? resolve(values.policy) : POLICY_FILE)(positionals[0]).canary_fraction : Number(values.fraction);
      const r = await withPublisher((publisher) => startRollout({ client: client(), publisher, name: positionals[0], stage, fraction, by: operator(values.by), reason: values.reason }));
      if (values.json) out(JSON.stringify({ version: r.version, rollout: r.stage, event_id: r.event?.event_id ?? null }));
      else out(r.stage ? `${positionals[0]}@challenger (version ${r.version}) in ${r.stage.stage}${r.stage.stage === 'canary' ? ` for ${(r.stage.fraction * 100).toFixed(1)} % of keys (salt ${r.stage.salt})` : ''}; event ${r.event?.event_id}` : `${positionals[0]}: rollout stopped (the champion serves alone from the next poll)`);
      return 0;
    }
    case 'list':
      if (!need(0, 'no arguments')) return 2;
      await printList(client(), values.json, out);
      return 0;
    case 'show':
      if (!need(1, 'NAME')) return 2;
      await printShow(client(), positionals[0], values.json, out);
      return 0;
    case 'history':
      if (!need(1, 'NAME')) return 2;
      await printHistory(client(), positionals[0], values.json, out);
      return 0;
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}
