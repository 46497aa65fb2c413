// The raw-client baseline of the VisionSpec benchmark (loadtest/vision-e2e.ts): a kafkajs consume ->
// produce loop over camera frames with no work at all (no decode, no image, no model), from
// vision.frames.v1 to loadtest.vision-passthrough.v1, the frame's record timestamp (its capture
// time) copied into a header. What vision-qc costs is read against this, in the same run.
import { brokerList, createKafka } from '../streams/runtime/kafka-client.ts';
import { createLogger } from '../streams/runtime/logger.ts';
import { TOPICS } from '../schemas/topics.ts';

export const VISION_PASSTHROUGH_TOPIC = 'loadtest.vision-passthrough.v1';
export const VISION_PASSTHROUGH_GROUP = 'loadtest-vision-passthrough';

if (import.meta.main) {
  const log = createLogger({ processor: 'vision-passthrough' }).child({}, { level: 'warn' });
  const kafka = createKafka('loadtest-vision-passthrough', brokerList(process.env.KAFKA_BROKERS ?? '127.0.0.1:9092'), log);
  const producer = kafka.producer();
  // Frames are large: fetch up to the topic's record limit per partition, as the runtime does.
  const consumer = kafka.consumer({ groupId: VISION_PASSTHROUGH_GROUP, maxBytesPerPartition: TOPICS.cameraFrames.maxMessageBytes });
  await producer.connect();
  await consumer.connect();
  await consumer.subscribe({ topic: TOPICS.cameraFrames.name, fromBeginning: false });
  consumer.on(consumer.events.GROUP_JOIN, () => process.stdout.write('joined consumer group\n'));
  await consumer.run({
    autoCommit: true,
    eachBatch: async ({ batch }) => {
      await producer.send({ topic: VISION_PASSTHROUGH_TOPIC, acks: -1, messages: batch.messages.map((m) => ({ key: m.key, value: m.value, headers: { 'source-ts': m.timestamp } })) });
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
