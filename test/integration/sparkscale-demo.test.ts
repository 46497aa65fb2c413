// Acceptance (issue #4): the SparkScale part of `npm run demo` runs in CI on its small bundled data:
// 1,000 Telco customers as billing events -> Kafka -> Parquet sink -> lake -> Spark standalone
// cluster: train (tiny grid) -> PipelineModel -> daily scores -> telecom.churn-predictions.v1, read
// back from the topic. The cluster is stopped afterwards if this test started it.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { sparkDown, sparkStatus } from '../../infra/spark/cluster.ts';
import { demoSparkScale } from '../../cli/demo-sparkscale.ts';
import { quietLog, runtimeOptions } from './helpers.ts';

let startedSpark = false;
after(async () => {
  if (startedSpark) await sparkDown({ log: () => undefined });
});

test('the SparkScale demo goes from billing events to churn scores on the topic', { timeout: 600_000 }, async () => {
  startedSpark = (await sparkStatus()).healthy !== true;
  const lines: string[] = [];
  const ok = await demoSparkScale(runtimeOptions({ logger: quietLog }), (line) => lines.push(line));
  assert.equal(ok, true, lines.join('\n'));
  const text = lines.join('\n');
  assert.match(text, /billing events of 1000 Telco customers/);
  assert.match(text, /parquet sink wrote [\d,]+ rows/);
  const scored = /(\d+) scores for 2026-06-30 -> telecom\.churn-predictions\.v1/.exec(text);
  assert.ok(scored && Number(scored[1]) === 1_000, `1,000 customers scored: ${text}`);
  // The demo trained its own PipelineModel and card, away from the committed production model.
  const demoModel = join(REPO_ROOT, '.data', 'demo', 'sparkscale', 'model');
  assert.ok(existsSync(join(demoModel, 'pipeline-model', 'metadata')));
  const meta = JSON.parse(readFileSync(join(demoModel, 'model-meta.json'), 'utf8')) as { metrics?: unknown };
  assert.ok(meta.metrics, 'model-meta.json has metrics');
});
