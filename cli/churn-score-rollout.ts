// The challenger steps of `churn score` (cli/churn.ts): before the batch, which challenger (the
// registry's rollout, or --challenger-dir/--rollout given by hand) and its delayed-label precision;
// after it, the batch's verdict (score.py's summary), the rollback of a breach, and the shadow
// partition's publication to telecom.churn-predictions.v1.shadow.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { publishPredictions } from '../connectors/churn-publisher/publisher.ts';
import { TOPICS } from '../schemas/topics.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import type { Logger } from '../streams/runtime/logger.ts';
import { mlflowClientFromEnv, type MlflowClient } from '../streams/runtime/model-registry/mlflow-client.ts';
import type { ResolvedSlot } from '../streams/runtime/model-registry/resolver.ts';
import { shadowSpec, type RolloutStage } from '../streams/runtime/rollout/rollout-state.ts';
import { errorLine } from '../streams/runtime/retry.ts';
import type { RolloutRules } from '../streams/runtime/model-registry/policy.ts';
import { challengerArgs, describeBatchRollout, judgePrecision, readPerformanceTallies, resolveChurnChallenger, rollBackChurnChallenger, rolloutRulesFor, type BatchRollout, type ChurnChallenger } from './churn-rollout.ts';
import { churnModelName } from './churn-serving.ts';
import { serviceEnv } from './env.ts';

export interface RolloutValues {
  'challenger-dir'?: string;
  rollout?: string;
  fraction?: string;
  salt?: string;
  lake?: string;
  force: boolean;
}

export interface PreparedRollout {
  /** score.py's challenger arguments (none: the champion alone). */
  args: string[];
  /** Reads score.py's summary: says the verdict, rolls a breached registry challenger back. */
  after(summaryFile: string): Promise<void>;
  /** Set by `after` when score.py wrote a shadow partition. */
  shadowLake: string | null;
  publishShadow(date: string): Promise<number>;
}

const say = (line: string) => process.stdout.write(`${line}\n`);

/** The rollout of this batch, or an exit code for bad arguments. */
export async function prepareRollout(values: RolloutValues, champion: { slot: ResolvedSlot } | null, lakeDir: string, log: Logger, name = churnModelName()): Promise<PreparedRollout | number> {
  let args: string[] = [];
  let registry: { client: MlflowClient; challenger: ChurnChallenger } | null = null;
  if (values['challenger-dir'] !== undefined || values.rollout !== undefined) {
    const stage = stageFromArgs(values);
    if (typeof stage === 'string') {
      process.stderr.write(`${stage}\n`);
      return 2;
    }
    args = challengerArgs(values['challenger-dir']!, stage);
  } else if (champion && champion.slot.version !== null) {
    const env = serviceEnv();
    const client = mlflowClientFromEnv(env);
    const challenger = await resolveChurnChallenger(client, env, name, log);
    if (challenger) {
      const s = challenger.stage;
      say(`churn score: challenger ${name}@challenger = version ${challenger.version} in ${s.stage}${s.stage === 'canary' ? ` for ${(s.fraction * 100).toFixed(1)} % of users (salt ${s.salt})` : ''}`);
      const rules = rolloutRulesFor(name, s);
      const breach = await precisionBreach(env, name, challenger, champion.slot.dir, rules, log);
      if (breach) {
        const id = await rollBackChurnChallenger(client, env, { model: name, version: challenger.version, stage: s.stage }, breach);
        say(`churn score: ROLLBACK of version ${challenger.version} before the batch: ${breach.rule} (${breach.detail}); event ${id}; the champion scores alone`);
      } else {
        args = challengerArgs(challenger.slot.dir, s, rules);
        registry = { client, challenger };
      }
    }
  }
  const prepared: PreparedRollout = {
    args,
    shadowLake: null,
    async after(summaryFile) {
      const rollout = (JSON.parse(readFileSync(summaryFile, 'utf8')) as { rollout?: BatchRollout | null }).rollout;
      if (!rollout) return;
      say(describeBatchRollout(rollout));
      if (rollout.shadow_output) prepared.shadowLake = join(lakeDir, 'shadow');
      if (!rollout.breach) return;
      if (!registry) {
        say('churn score: the challenger was given by --challenger-dir, not the registry: nothing to roll back there');
        return;
      }
      const { version, stage } = registry.challenger;
      const id = await rollBackChurnChallenger(registry.client, serviceEnv(), { model: name, version, stage: stage.stage }, rollout.breach);
      say(`churn score: ROLLBACK of ${name} version ${version}: alias challenger deleted, stage none, event ${id}`);
    },
    async publishShadow(date) {
      const env = serviceEnv();
      const topic = shadowSpec(TOPICS.churnPredictions).name;
      const result = await publishPredictions({ lakeDir: prepared.shadowLake!, date, brokers: brokerList(env.KAFKA_BROKERS!), registryUrl: env.SCHEMA_REGISTRY_URL!, topic, force: values.force });
      say(JSON.stringify({ published: result.published, skipped: result.skipped, rows: result.rows, topic: result.topic, sha256: result.hash, role: 'shadow' }));
      return 0;
    },
  };
  return prepared;
}

/** --challenger-dir DIR --rollout shadow|canary [--fraction F --salt S], or what is wrong with them. */
export function stageFromArgs(v: RolloutValues): RolloutStage | string {
  if (!v['challenger-dir'] || !v.rollout) return '--challenger-dir DIR and --rollout shadow|canary go together';
  if (v.rollout === 'shadow') return { stage: 'shadow' };
  if (v.rollout !== 'canary') return `--rollout must be shadow or canary, got ${JSON.stringify(v.rollout)}`;
  const fraction = Number(v.fraction);
  if (!(fraction > 0 && fraction < 1)) return `a canary needs --fraction in (0, 1), got ${JSON.stringify(v.fraction)}`;
  if (!v.salt) return 'a canary needs --salt (the registry rollout uses the challenger\'s version)';
  return { stage: 'canary', fraction, salt: v.salt };
}

/** The precision rule before the batch; a topic that cannot be read is said and skipped (the other rules still judge). */
async function precisionBreach(env: NodeJS.ProcessEnv, model: string, c: ChurnChallenger, championDir: string, rules: RolloutRules, log: Logger) {
  try {
    const tallies = await readPerformanceTallies(env, log);
    return await judgePrecision(tallies, { model, registryVersion: c.version, championDir, challengerDir: c.slot.dir, rules, log });
  } catch (err) {
    say(`churn score: delayed-label precision not judged (${errorLine(err)})`);
    return null;
  }
}
