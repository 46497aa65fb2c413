// Fault suite: Redis loses maintenance-scorer's state while it runs, twice: FLUSHALL, then a
// restart with nothing in it (the embedded Redis keeps no persistence). The scorer must notice before
// writing anything (state fenced per partition), rebuild from Kafka and go on, never exiting, and
// never emit a prediction computed from partial state: every prediction must equal what the arm's
// complete history gives (predictions.ts). The Redis is this case's own, so no one else's state is lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { endpoints, runId, testKafka } from '../integration/helpers.ts';
import { currentEnds, endOffsets, produceTracked, waitForCommits, type Coordinates } from './kafka-io.ts';
import { anyStopped, explained, failureModel, liveness, startScorer, stopAll, type Watched } from './pipeline.ts';
import { armReadings, checkPredictions, readPredictions } from './predictions.ts';
import { serviceLog, serviceUnderTest, type ServiceUnderTest } from './services.ts';

const ARMS = 12;
const MINUTES = 150; // x 3 sensors x 12 arms = 5,400 readings
const CHUNKS = 30;

const stackLog = serviceLog();
let redis: ServiceUnderTest;
let scorer: Watched | undefined;
before(async () => {
  redis = await serviceUnderTest('REDIS_URL', stackLog.log, { throwaway: true });
});
after(async () => {
  await stopAll([scorer]);
  await redis?.dispose();
});

test('Redis loses the scorer state mid-stream (FLUSHALL, then a restart empty): it keeps running and every prediction is exact', { timeout: 240_000 }, async (t) => {
  const run = runId();
  const kafka = testKafka();
  const topic = TOPICS.sensorReadingsValidated;
  const serde = new AvroSerde(new ConfluentSchemaStore(endpoints().schemaRegistryUrl));
  await serde.useTopic(topic.name, loadSchema(topic.schema));
  const readings = armReadings(run, ARMS, MINUTES, Date.now() - (MINUTES + 5) * 60_000);
  const from = await currentEnds(kafka, [TOPICS.maintenancePredictions.name]);
  scorer = await startScorer({ ...endpoints(), redisUrl: redis.endpoint }, { maxBatchRecords: 200 });

  const client = new Redis(redis.endpoint, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const sent: Coordinates[] = [];
  const size = Math.ceil(readings.length / CHUNKS);
  try {
    for (let c = 0; c < CHUNKS; c++) {
      const chunk = readings.slice(c * size, (c + 1) * size);
      sent.push(...(await produceTracked(kafka, topic.name, topic.partitions, chunk.map((r) => ({ key: r.arm_id, value: serde.encode(topic.name, r) })))));
      await sleep(150);
      if (c === Math.floor(CHUNKS / 3)) {
        t.diagnostic(`FLUSHALL after ${sent.length} readings (${await client.dbsize()} keys)`);
        await client.flushall();
      }
      if (c === Math.floor((2 * CHUNKS) / 3)) {
        t.diagnostic(`Redis stopped after ${sent.length} readings, started again empty`);
        client.disconnect();
        await redis.stop();
        await sleep(1_000);
        await redis.start();
        await client.connect();
      }
    }
  } finally {
    client.disconnect();
  }

  await explained([scorer], waitForCommits(kafka, 'maintenance-scorer', topic.name, endOffsets(sent, topic.name), 120_000, anyStopped([scorer])));
  const predictions = await readPredictions(kafka, serde, run, from);
  const check = await checkPredictions(await failureModel(), readings, predictions);
  const rebuilds = scorer.lines.filter((l) => /rebuil/i.test(l.msg)).length;
  t.diagnostic(`${readings.length} readings, ${predictions.length} predictions checked against the complete history (${check.checked}); ${rebuilds} rebuild log lines; ${scorer.crashes()} consumer crashes`);

  assert.deepEqual(liveness([scorer]), [], 'the scorer is still running and ready, and its consumer never crashed');
  assert.deepEqual(check.problems, [], `predictions that are not what the complete history gives, or duplicated, or missing:\n${scorer.tail(20)}`);
  assert.ok(rebuilds > 0, `the scorer logged no state rebuild: did it notice that Redis lost its state?\n${scorer.tail(20)}`);
});
