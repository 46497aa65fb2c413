// What the p99_latency and score_psi rollback rules see for a challenger that is the champion's own
// model (docs/models.md "Shadow, canary and rollback"): the maintenance scorer on Kafka and Redis
// serves NAME@champion = v1 and NAME@challenger = v2 (the same trees) in shadow or canary, every
// rule's threshold is set out of reach so nothing is rolled back, and a probe rule records, at each
// judgement, the champion's and the challenger's p99 handle time per record and the score PSI the
// controller computes. A healthy challenger should read a ratio near 1 and a PSI near 0.
//   KAFKA_BROKERS=... REDIS_URL=... MLFLOW_TRACKING_URI=... SCHEMA_REGISTRY_URL=... \
//   node loadtest/rollout-latency.ts [--stage shadow|canary] [--fraction 0.5] [--arms 40] [--minutes 60] [--out FILE]
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProcessor } from '../streams/runtime/kafka-runner.ts';
import { ArtifactCache } from '../streams/runtime/model-registry/artifact-cache.ts';
import { kafkaLifecyclePublisher } from '../streams/runtime/model-registry/lifecycle-events.ts';
import { policyRolloutRules, scorePsi } from '../streams/runtime/model-registry/rollout-controller.ts';
import { ModelResolver } from '../streams/runtime/model-registry/resolver.ts';
import { startRollout } from '../streams/runtime/model-registry/rollout.ts';
import { ConfluentSchemaStore } from '../streams/runtime/schema-store.ts';
import { servedMaintenanceScorer } from '../streams/maintenance/served.ts';
import { waitUntil } from '../infra/stack/process.ts';
import { endpoints, quietLog, runId, runtimeOptions, testKafka } from '../test/integration/helpers.ts';
import { armReadings, consumedSince, produceReadings, registerPair } from '../test/integration/rollout-helpers.ts';
import { percentile, writeResults } from './lib.ts';

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const stage = arg('stage', 'shadow');
if (stage !== 'shadow' && stage !== 'canary') throw new Error(`--stage must be shadow or canary, got ${stage}`);
const fraction = Number(arg('fraction', '0.5'));
const arms = Number(arg('arms', '40'));
const minutes = Number(arg('minutes', '60'));
const out = arg('out', `loadtest/results/rollout-latency-${stage}-${new Date().toISOString().slice(0, 10)}.json`);

const id = runId();
const pair = await registerPair(id, 'latency');
const { name, client } = pair;
const kafka = testKafka();
const publisher = await kafkaLifecyclePublisher({ kafka, store: new ConfluentSchemaStore(endpoints().schemaRegistryUrl), log: quietLog });
await startRollout({ client, publisher, name, stage, fraction, by: 'loadtest', reason: 'rollout-latency' }).finally(() => publisher.close());

const judgements: { champion_p99: number; challenger_p99: number; ratio: number; psi: number | null; champion_records: number; challenger_records: number }[] = [];
const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: join(pair.tmp, 'cache') }), log: quietLog });
const scorer = await startProcessor(servedMaintenanceScorer(undefined, join(pair.tmp, 'v1')), runtimeOptions({
  modelResolver: resolver, modelPollMs: 500, maxBatchRecords: 300,
  rollout: {
    shadowTimeoutMs: 60_000,
    rulesFor: (model) => ({ ...policyRolloutRules()(model), window_ms: 2_000, min_records: 300, warmup_ms: 1_000, max_p99_latency_ratio: Number.MAX_VALUE, max_score_psi: Number.MAX_VALUE, max_error_rate_increase: 1 }),
    extraRules: [({ champion, challenger }) => {
      judgements.push({ champion_p99: champion.p99MsPerRecord, challenger_p99: challenger.p99MsPerRecord, ratio: challenger.p99MsPerRecord / champion.p99MsPerRecord, psi: scorePsi(champion.scores, challenger.scores), champion_records: champion.records, challenger_records: challenger.records });
      return null;
    }],
  },
}));
const started = Date.now();
try {
  const readings = armReadings(id, arms, minutes);
  const consumed = await consumedSince(kafka);
  await produceReadings(kafka, readings, 300, 20);
  if (!(await waitUntil(async () => (await consumed()) >= readings.length, 120_000, 200))) throw new Error('the scorer did not commit every reading in 120 s');
} finally {
  await scorer.stop();
  rmSync(pair.tmp, { recursive: true, force: true });
}
const ratios = judgements.map((j) => j.ratio).sort((a, b) => a - b);
const psis = judgements.flatMap((j) => (j.psi === null ? [] : [j.psi])).sort((a, b) => a - b);
const summary = {
  stage, fraction: stage === 'canary' ? fraction : null, arms, minutes, readings: arms * minutes * 3, judgements: judgements.length, seconds: (Date.now() - started) / 1000,
  ratio: { p50: percentile(ratios, 50), p90: percentile(ratios, 90), max: ratios.at(-1) ?? null, over_2: ratios.filter((r) => r > 2).length },
  psi: { p50: percentile(psis, 50), max: psis.at(-1) ?? null, over_0_25: psis.filter((p) => p > 0.25).length },
};
console.log(JSON.stringify(summary));
writeResults(out, { ...summary, judgementsDetail: judgements });
process.exit(0);
