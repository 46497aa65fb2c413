// `streamscore churn train | score | publish`: the SparkScale batch jobs. Training and scoring are
// PySpark programs (models/churn/train.py, score.py) run by the venv's Python as Spark drivers on the
// local standalone cluster (`streamscore spark up`, started here when needed) or on SPARK_MASTER_URL;
// `--local` runs them in-process on local[*] instead, as an explicit choice. `score` then publishes
// the day's partition to telecom.churn-predictions.v1 (connectors/churn-publisher).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from '../infra/stack/config.ts';
import { loadSparkConfig } from '../infra/spark/config.ts';
import { sparkMasterUrl, sparkSubmitEnv, sparkUp } from '../infra/spark/cluster.ts';
import { defaultLakeDir } from '../connectors/parquet-sink/datasets.ts';
import { publishPredictions } from '../connectors/churn-publisher/publisher.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { serviceEnv } from './env.ts';
import { describeResult, trainOnTable } from './churn-table.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { CustomerMappingError } from '../connectors/billing/customer-mapping.ts';
import { describeChurnModel, publishBatchDrift, resolveChurnModel } from './churn-serving.ts';
import { CHURN_METRICS_PORT, serveChurnMetrics } from './churn-metrics.ts';

const USAGE = `usage: streamscore churn <command> [options]

  train   --cutoff YYYY-MM-DD [--cutoff ...] [--grid tiny|default] [--out DIR] [--card FILE]
          features from the lake as of each cut-off, LogisticRegression vs RandomForest (CrossValidator),
          the better one saved as ONE PipelineModel (models/churn/artifacts/) + MODEL_CARD.md
  train   --table FILE --mapping MAPPING.json [--cutoff YYYY-MM-DD] [--grid tiny|default] [--folds N] [--work DIR]
          a customer table through its mapping (connectors/mappings/customers/) into a lake of its own,
          trained and scored there (default work dir .data/churn-table/<mapping>/): prints the held-out
          AUC-ROC and AUC-PR and how many customers were scored or reported (docs/customer-tables.md)
  score   --date YYYY-MM-DD [--model-dir DIR] [--no-publish] [--force]
          [--challenger-dir DIR --rollout shadow|canary [--fraction F --salt S]]
          the daily batch: scores the day's active subscribers into
          <lake>/telecom/churn_predictions/score_date=DATE/, then publishes them to the topic;
          the model is --model-dir, else churn-30d-rf@champion from MLflow (else the committed one),
          and the batch's drift against its reference.json goes to models.drift-alerts.v1.
          A registry rollout (churn-30d-rf@challenger + streamscore.rollout) is served too: shadow
          scores into <lake>/shadow/... and telecom.churn-predictions.v1.shadow, canary serves the
          hashed users; a breach of the policy's rules rolls the challenger back (docs/models.md)
  metrics [--port 9471]
          serves the batch's drift (the latest <lake>/telecom/churn_drift/*/drift.json) as the runtime's
          streamscore_drift_* gauges on /metrics, for Prometheus and StreamscoreModelDrift; runs until stopped
  publish --date YYYY-MM-DD [--force]
          publishes an already scored day (skipped when that exact content was published before)
  evaluate --date D [--model-dir DIR] [--threshold T] [--no-publish]
          delayed labels: the predictions of D-30 against the CANCELLATIONs in (D-30, D] of the lake,
          precision and recall at the model meta's threshold (models/churn/evaluate.py), published
          to models.performance.v1 (docs/models.md "Delayed labels")

common: --lake DIR (default STREAMSCORE_LAKE_DIR or .data/lake)
        --local  run Spark in-process on local[*] instead of the standalone cluster
`;

const OPTIONS = {
  cutoff: { type: 'string', multiple: true },
  date: { type: 'string' },
  grid: { type: 'string' },
  out: { type: 'string' },
  card: { type: 'string' },
  'model-dir': { type: 'string' },
  lake: { type: 'string' },
  local: { type: 'boolean', default: false },
  table: { type: 'string' },
  mapping: { type: 'string' },
  work: { type: 'string' },
  folds: { type: 'string' },
  'no-publish': { type: 'boolean', default: false },
  force: { type: 'boolean', default: false },
  threshold: { type: 'string' },
  'challenger-dir': { type: 'string' },
  rollout: { type: 'string' },
  fraction: { type: 'string' },
  salt: { type: 'string' },
  port: { type: 'string' },
} as const;

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** Runs a models/churn program as a Spark driver; resolves with its exit code. Output passes through. */
export function runSparkJob(script: string, args: string[], lakeDir: string): Promise<number> {
  const config = loadSparkConfig();
  const env = { ...process.env, ...sparkSubmitEnv(config), STREAMSCORE_LAKE_DIR: lakeDir };
  const child = spawn(config.python, [join(REPO_ROOT, 'models', 'churn', script), ...args], { cwd: REPO_ROOT, env, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
  });
}

/** The master for a job: local[*] when asked, else the running (or just started) standalone cluster. */
async function masterFor(local: boolean): Promise<string> {
  if (local) return 'local[*]';
  await sparkUp();
  return sparkMasterUrl();
}

export async function run(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  let values;
  try {
    ({ values } = parseArgs({ args: rest, options: OPTIONS }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const lakeDir = values.lake ?? defaultLakeDir();
  const needDate = (): string | null => {
    if (values.date && DATE.test(values.date)) return values.date;
    process.stderr.write(`--date YYYY-MM-DD is required${values.date ? ` (got ${JSON.stringify(values.date)})` : ''}\n\n${USAGE}`);
    return null;
  };
  const publish = async (date: string): Promise<number> => {
    const env = serviceEnv();
    const result = await publishPredictions({ lakeDir, date, brokers: brokerList(env.KAFKA_BROKERS!), registryUrl: env.SCHEMA_REGISTRY_URL!, force: values.force });
    process.stdout.write(`${JSON.stringify({ published: result.published, skipped: result.skipped, rows: result.rows, topic: result.topic, sha256: result.hash })}\n`);
    return 0;
  };

  switch (command) {
    case 'train': {
      if (values.table !== undefined || values.mapping !== undefined) return trainTable(values);
      const cutoffs = values.cutoff ?? [];
      if (!cutoffs.length || cutoffs.some((c) => !DATE.test(c))) {
        process.stderr.write(`--cutoff YYYY-MM-DD is required (one or more)\n\n${USAGE}`);
        return 2;
      }
      const master = await masterFor(values.local);
      const jobArgs = ['--master', master, '--lake', lakeDir, ...cutoffs.flatMap((c) => ['--cutoff', c])];
      if (values.grid) jobArgs.push('--grid', values.grid);
      if (values.out) jobArgs.push('--out', values.out);
      if (values.card) jobArgs.push('--card', values.card);
      const code = await runSparkJob('train.py', jobArgs, lakeDir);
      // A new model version in MLflow when a tracking server answers (cli/models.ts), else one line.
      if (code === 0) await (await import('./models.ts')).registerAfterTraining('churn', values.out ?? join(REPO_ROOT, 'models', 'churn', 'artifacts'));
      return code;
    }
    case 'score': {
      const date = needDate();
      if (!date) return 2;
      const master = await masterFor(values.local);
      // The registry's champion (or the committed model) unless --model-dir names one; drift alerts from the summary.
      const log = createLogger({ component: 'churn-score' });
      const model = values['model-dir'] ? null : await resolveChurnModel(serviceEnv(), process.env, log);
      if (model) process.stdout.write(`${describeChurnModel(model)}\n`);
      const summaryFile = join(mkdtempSync(join(tmpdir(), 'churn-score-')), 'summary.json');
      const jobArgs = ['--master', master, '--lake', lakeDir, '--date', date, '--model-dir', values['model-dir'] ?? model!.slot.dir, '--summary-out', summaryFile];
      const rollout = await (await import('./churn-score-rollout.ts')).prepareRollout(values, model, lakeDir, log);
      if (typeof rollout === 'number') return rollout;
      jobArgs.push(...rollout.args);
      const code = await runSparkJob('score.py', jobArgs, lakeDir);
      if (code !== 0) return code;
      await publishBatchDrift(summaryFile, values['no-publish'] ? null : serviceEnv(), log, (line) => process.stdout.write(`${line}\n`));
      await rollout.after(summaryFile);
      if (values['no-publish']) return code;
      const published = await publish(date);
      return rollout.shadowLake ? (await rollout.publishShadow(date)) || published : published;
    }
    case 'metrics': {
      const port = Number(values.port ?? CHURN_METRICS_PORT);
      if (!Number.isInteger(port) || port < 0 || port > 65535) {
        process.stderr.write(`--port must be a TCP port, got ${JSON.stringify(values.port)}\n\n${USAGE}`);
        return 2;
      }
      const server = await serveChurnMetrics({ lakeDir, port, host: process.env.METRICS_HOST, log: createLogger({ component: 'churn-metrics' }) });
      process.stdout.write(`churn metrics: http://${process.env.METRICS_HOST ?? '127.0.0.1'}:${server.port}/metrics (drift reports under ${join(lakeDir, 'telecom', 'churn_drift')})\n`);
      await new Promise<void>((resolve) => ['SIGINT', 'SIGTERM'].forEach((s) => process.once(s, () => resolve())));
      await server.close();
      return 0;
    }
    case 'publish': {
      const date = needDate();
      return date ? publish(date) : 2;
    }
    case 'evaluate': {
      const date = needDate();
      if (!date) return 2;
      if (values.threshold !== undefined && !(Number(values.threshold) >= 0 && Number(values.threshold) <= 1)) {
        process.stderr.write(`--threshold must be a probability in [0, 1], got ${JSON.stringify(values.threshold)}\n\n${USAGE}`);
        return 2;
      }
      return (await import('./churn-evaluate.ts')).evaluate({ date, lakeDir, master: await masterFor(values.local), modelDir: values['model-dir'], threshold: values.threshold, publish: !values['no-publish'] });
    }
    default:
      process.stderr.write(USAGE);
      return 2;
  }
}

/** `train --table FILE --mapping M`: see cli/churn-table.ts. */
async function trainTable(values: { table?: string; mapping?: string; cutoff?: string[]; grid?: string; folds?: string; work?: string; lake?: string; local: boolean }): Promise<number> {
  const cutoffs = values.cutoff ?? [];
  const folds = values.folds === undefined ? undefined : Number(values.folds);
  if (!values.table || !values.mapping || cutoffs.length > 1 || cutoffs.some((c) => !DATE.test(c)) || (folds !== undefined && !(Number.isInteger(folds) && folds >= 2))) {
    process.stderr.write(`--table FILE and --mapping FILE go together (with at most one --cutoff YYYY-MM-DD, --folds a whole number >= 2)\n\n${USAGE}`);
    return 2;
  }
  if (!existsSync(values.table)) {
    process.stderr.write(`--table ${values.table}: no such file\n`);
    return 2;
  }
  try {
    const result = await trainOnTable({
      table: values.table, mapping: values.mapping, workDir: values.work, lakeDir: values.lake, cutoff: cutoffs[0], grid: values.grid, folds,
      master: await masterFor(values.local), log: createLogger({ component: 'churn-table' }), runJob: runSparkJob,
    });
    for (const line of describeResult(result)) process.stdout.write(`${line}\n`);
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return result.failed ? 1 : 0;
  } catch (err) {
    if (!(err instanceof CustomerMappingError)) throw err;
    process.stderr.write(`${err.message}\n`);
    return 2;
  }
}
