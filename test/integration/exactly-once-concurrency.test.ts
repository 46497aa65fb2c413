// An exactly-once processor consuming several partitions at once (STREAMSCORE_PARTITION_CONCURRENCY
// > 1) delivers each chunk in its own transaction on its one transactional producer: the chunks'
// transactions must take turns. Before delivery.ts serialised them, the second concurrent chunk
// failed ("There is already an ongoing transaction"), the restarted session was fenced by its own
// transactional id and the processor stopped. Every record must come out once and the processor
// must still be running.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { TOPICS } from '../../schemas/topics.ts';
import { startProcessor, type RunningProcessor } from '../../streams/runtime/kafka-runner.ts';
import { sensorValidation } from '../../streams/sensor-validation/topology.ts';
import { assertEachReadingOnce, collect, reading, readingMessage, readingSerde, runId, runtimeOptions, testKafka } from './helpers.ts';

let processor: RunningProcessor;
before(async () => {
  processor = await startProcessor(sensorValidation, runtimeOptions({ partitionsConsumedConcurrently: 3, maxBatchRecords: 50 }));
});
after(async () => {
  await processor?.stop();
});

test('exactly-once with three partitions consumed concurrently: every record once, the processor still up', { timeout: 180_000 }, async () => {
  const id = runId();
  const kafka = testKafka();
  const serde = await readingSerde();
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const arms = 24; // keys spread over all 6 partitions of the input
  const all = Array.from({ length: arms * 100 }, (_, i) => reading(id, i % arms, Math.floor(i / arms)));
  for (let c = 0; c < all.length; c += 240) {
    await producer.send({ topic: TOPICS.sensorReadings.name, messages: all.slice(c, c + 240).map((r) => readingMessage(serde, r)) });
  }
  await producer.disconnect();

  const out = await collect(kafka, [TOPICS.sensorReadingsValidated.name], (m) => m.value.includes(Buffer.from(id)), (seen) => seen.length >= all.length, 150_000, 3_000);
  await assertEachReadingOnce(serde, out, all);
  assert.equal(processor.isReady(), true, 'the processor is still a member of its group');
});
