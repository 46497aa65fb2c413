// `streamscore models steward`: the retraining loop (docs/models.md "Retraining loop (steward)").
// The logic is in streams/runtime/model-registry/steward*.ts; this file picks what retraining each
// model takes (the pipeline knowledge the runtime must not have), reads the options and runs it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { plantsDir } from '../schemas/factory/plant-registry.ts';
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { DEFAULT_MODEL_CACHE_DIR } from '../streams/runtime/model-registry/artifact-cache.ts';
import { mlflowClientFromEnv } from '../streams/runtime/model-registry/mlflow-client.ts';
import { loadPolicy } from '../streams/runtime/model-registry/policy.ts';
import { policyRolloutRules } from '../streams/runtime/model-registry/rollout-controller.ts';
import { Steward, type StewardWindows } from '../streams/runtime/model-registry/steward.ts';
import type { RetrainPlan } from '../streams/runtime/model-registry/steward-command.ts';
import { startStewardFeed, type PerformanceRule } from '../streams/runtime/model-registry/steward-feed.ts';
import { MODEL_KINDS } from './model-kinds.ts';
import { POLICY_FILE, lifecyclePublisherFromEnv } from './models.ts';
import { serviceEnv } from './env.ts';

export const STEWARD_USAGE = `  steward [--debounce 6h] [--poll 5s] [--policy FILE] [--group models-steward] [--min-precision 0.5] [--min-judged 10]
                           the retraining loop: a drift alert (models.drift-alerts.v1) or a day's precision under
                           --min-precision (models.performance.v1) about a champion retrains it (once per --debounce),
                           then walks the new version: challenger (gates) -> shadow -> canary -> champion (gates,
                           AUTO_PROMOTED) after the policy's clean windows; RETRAIN_FAILED on any failure.
                           Retraining: policy models.NAME.retrain.command, else STREAMSCORE_RETRAIN_<KIND>, else a
                           plant's \`plant train --from-topic\`; vision, ner and churn are announced as manual`;

const OPTIONS = {
  debounce: { type: 'string', default: '6h' },
  poll: { type: 'string', default: '5s' },
  policy: { type: 'string' },
  group: { type: 'string', default: 'models-steward' },
  'min-precision': { type: 'string', default: '0.5' },
  'min-judged': { type: 'string', default: '10' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** `500ms`, `30s`, `10m`, `6h`, `2d` -> milliseconds; throws naming the option. */
export function durationMs(spec: string, option: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(spec.trim());
  if (!m || !(Number(m[1]) > 0)) throw new Error(`--${option} ${JSON.stringify(spec)} is not a duration such as 500ms, 30s, 10m, 6h or 2d`);
  return Number(m[1]) * { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 'ms']!;
}

const MANUAL: Record<string, string> = {
  vision: 'VisionSpec trains on labelled DeepPCB frames with PyTorch (models/vision), which no stream provides and CI does not install',
  ner: 'LexiScan trains on labelled CUAD contracts with PyTorch (models/documents); no label stream exists',
  churn: '`churn train` needs the cut-off dates of the lake to train on and minutes of Spark; set STREAMSCORE_RETRAIN_CHURN (e.g. streamscore churn train --cutoff D --out DIR) to automate it',
};

/** The plant profile (repository-relative path) whose model.artifacts folder holds model `name`, by its meta. */
export function plantProfileOf(name: string, dir = plantsDir()): { path: string; labelSource: string } | null {
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.json')).sort()) {
    const profile = JSON.parse(readFileSync(join(dir, f), 'utf8')) as { model?: { artifacts?: string }; label?: { source?: string } };
    const meta = profile.model?.artifacts ? join(REPO_ROOT, profile.model.artifacts, 'model-meta.json') : null;
    if (meta && existsSync(meta) && (JSON.parse(readFileSync(meta, 'utf8')) as { model_name?: string }).model_name === name) {
      return { path: relative(REPO_ROOT, join(dir, f)) || join(dir, f), labelSource: profile.label?.source ?? '' };
    }
  }
  return null;
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

/**
 * What retraining model `name` of `kind` takes, in this order: the policy's models.NAME.retrain.command;
 * STREAMSCORE_RETRAIN_<KIND>; for a plant's failure model, its history from the validated readings
 * topic through `plant train` into a folder of its own (never the committed one), registered under
 * the model's name at the end of training; otherwise a manual step, with why.
 */
export function retrainPlanner(policyRaw: { models?: Record<string, { retrain?: { command?: string } }> }, env: NodeJS.ProcessEnv, dataDir: string) {
  return ({ name, kind }: { name: string; kind: string }): RetrainPlan => {
    const own = policyRaw.models?.[name]?.retrain?.command;
    if (own) return { manual: false, command: own, description: `policy retrain.command: ${own}`, cwd: REPO_ROOT };
    const fromEnv = env[`STREAMSCORE_RETRAIN_${kind.toUpperCase()}`]?.trim();
    if (fromEnv) return { manual: false, command: fromEnv, description: `STREAMSCORE_RETRAIN_${kind.toUpperCase()}: ${fromEnv}`, cwd: REPO_ROOT };
    if (kind === 'failure') {
      const profile = plantProfileOf(name);
      if (!profile) return { manual: true, reason: `no plant profile in ${plantsDir()} has ${name} as its model` };
      const work = `${join(dataDir, 'retrain', name)}-$STREAMSCORE_RETRAIN_STARTED_AT`;
      const cli = `${quote(process.execPath)} ${quote(join(REPO_ROOT, 'bin', 'streamscore.mjs'))}`;
      const failures = profile.labelSource === 'failure_events' ? ' --failures-topic' : '';
      const command = `W="${work}" && mkdir -p "$W" && ${cli} plant train --profile ${quote(profile.path)} --from-topic${failures} --work "$W" --artifacts "$W/model" --model-name ${quote(name)}`;
      return { manual: false, command, description: `plant train --profile ${profile.path} --from-topic${failures} (history from the validated readings topic) --model-name ${name}`, cwd: REPO_ROOT };
    }
    return { manual: true, reason: MANUAL[kind] ?? `no retraining is known for kind ${kind}` };
  };
}

export async function run(args: string[]): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({ args, options: OPTIONS, allowPositionals: false }));
  } catch (e) {
    process.stderr.write(`${(e as Error).message}\n\nusage: streamscore models\n${STEWARD_USAGE}\n`);
    return 2;
  }
  if (values.help) return (process.stdout.write(`usage: streamscore models\n${STEWARD_USAGE}\n`), 0);
  const debounceMs = durationMs(values.debounce, 'debounce');
  const pollMs = durationMs(values.poll, 'poll');
  const perf: PerformanceRule = { minPrecision: Number(values['min-precision']), minJudged: Number(values['min-judged']) };
  if (!(perf.minPrecision > 0 && perf.minPrecision <= 1) || !(Number.isInteger(perf.minJudged) && perf.minJudged >= 1)) throw new Error('--min-precision must be in (0, 1] and --min-judged a whole number >= 1');
  const policyFile = values.policy ? resolve(values.policy) : POLICY_FILE;
  const policy = loadPolicy(policyFile, REPO_ROOT);
  const policyRaw = JSON.parse(readFileSync(policyFile, 'utf8')) as { models?: Record<string, { retrain?: { command?: string; min_precision?: number } }> };
  const rules = policyRolloutRules(policyFile);
  const windowsFor = (model: string): StewardWindows => {
    const r = rules(model) as ReturnType<typeof rules> & { shadow_clean_ms?: number; auto_promote_after_ms?: number | null };
    return { shadowCleanMs: r.shadow_clean_ms ?? r.window_ms, autoPromoteAfterMs: typeof r.auto_promote_after_ms === 'number' ? r.auto_promote_after_ms : null, canaryFraction: r.canary_fraction };
  };

  const env = serviceEnv();
  const log = createLogger({ component: 'models-steward' });
  const client = mlflowClientFromEnv(env);
  const publisher = await lifecyclePublisherFromEnv(env);
  const steward = new Steward({
    client, publisher, kinds: MODEL_KINDS, policy, policySource: policyFile, cacheDir: process.env.STREAMSCORE_MODEL_CACHE_DIR?.trim() || DEFAULT_MODEL_CACHE_DIR,
    planFor: retrainPlanner(policyRaw, process.env, process.env.STREAMSCORE_DATA_DIR?.trim() || join(REPO_ROOT, '.data')),
    windowsFor, debounceMs, pollMs, actor: `models-steward/${hostname()}`, log,
  });
  const resumed = await steward.resume();
  const feed = await startStewardFeed({
    kafka: createKafka('streamscore-models-steward', brokerList(env.KAFKA_BROKERS!), log), store: new ConfluentSchemaStore(env.SCHEMA_REGISTRY_URL!), groupId: values.group,
    performanceRule: (m) => ({ ...perf, minPrecision: policyRaw.models?.[m]?.retrain?.min_precision ?? perf.minPrecision }), maxAgeMs: debounceMs, onTrigger: (t) => steward.onTrigger(t), log,
  });
  log.info({ debounceMs, pollMs, policy: policyFile, resumed }, `models steward: watching models.drift-alerts.v1 and models.performance.v1 (${resumed} retraining(s) resumed)`);
  await new Promise<void>((done) => {
    for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => done());
  });
  // A walk in a window is simply left: its state is in the registry and the next steward resumes it.
  log.info({ walks: [...steward.walks.keys()] }, 'models steward stopping');
  await feed.stop();
  await publisher.close();
  return 0;
}
