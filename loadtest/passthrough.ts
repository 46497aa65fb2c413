// The baseline of the end-to-end benchmark: a raw kafkajs consume -> produce loop with no work at
// all (no decode, no state, no model, no transactions), from factory.sensor-readings.v1 to
// loadtest.passthrough.v1. What the pipeline costs is read as a ratio against this, measured in the
// same run on the same machine.
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { TOPICS } from '../schemas/topics.ts';

export const PASSTHROUGH_TOPIC = 'loadtest.passthrough.v1';

if (import.meta.main) {
  const log = createLogger({ processor: 'passthrough' }).child({}, { level: 'warn' });
  const kafka = createKafka('loadtest-passthrough', brokerList(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'), log);
  const producer = kafka.producer();
  const consumer = kafka.consumer({ groupId: 'loadtest-passthrough' });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.sensorReadings.name, fromBeginning: false });
  consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined consumer group\n'));
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: PASSTHROUGH_TOPIC, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: { 'source-ts': m.timestamp } })) });
    },
  });
  const stop = async () => {
    await consumer.disconnect();
    await producer.disconnect();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
