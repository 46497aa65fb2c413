// `streamscore churn evaluate --date D`: runs models/churn/evaluate.py as a Spark driver (the
// predictions of D-30 against the cancellations in (D-30, D]) and publishes its summary to
// models.performance.v1 (connectors/churn-publisher/performance.ts), one record per model version of the day.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { churnPerformanceRecord, publishPerformance, type ChurnEvaluation } from '../connectors/churn-publisher/performance.ts';
import { brokerList } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { runSparkJob } from './churn.ts';
import { serviceEnv } from './env.ts';

export async function evaluate(o: { date: string; lakeDir: string; master: string; modelDir?: string; threshold?: string; publish: boolean }): Promise<number> {
  const work = mkdtempSync(join(tmpdir(), 'streamscore-churn-evaluate-'));
  try {
    const summaryPath = join(work, 'summary.json');
    const args = ['--master', o.master, '--lake', o.lakeDir, '--date', o.date, '--summary-out', summaryPath];
    if (o.modelDir) args.push('--model-dir', o.modelDir);
    if (o.threshold !== undefined) args.push('--threshold', o.threshold);
    const code = await runSparkJob('evaluate.py', args, o.lakeDir);
    if (code !== 0 || !o.publish) return code;
    // A day scored with a challenger (canary rows, or a shadow partition) is judged per version: one record each.
    const summary = JSON.parse(readFileSync(summaryPath, 'utf8')) as ChurnEvaluation | { evaluations: ChurnEvaluation[] };
    const now = Date.now();
    const records = ('evaluations' in summary ? summary.evaluations : [summary]).map((s) => churnPerformanceRecord(s, now));
    const env = serviceEnv();
    await publishPerformance(records, { brokers: brokerList(env.KAFKA_BROKERS!), registryUrl: env.SCHEMA_REGISTRY_URL!, log: createLogger({ component: 'churn-evaluate' }) });
    for (const record of records) process.stdout.write(`${JSON.stringify({ published: 1, topic: 'models.performance.v1', model: record.model_name, version: record.model_version, day: record.day, precision: record.precision, recall: record.recall })}\n`);
    return 0;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
