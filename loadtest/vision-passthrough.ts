// The raw-client baseline of the VisionSpec benchmark (loadtest/vision-e2e.ts): a kafkajs consume ->
// produce loop over camera frames with no work at all (no decode, no image, no model), from
// vision.frames.v1 to loadtest.vision-passthrough.v1, the frame's record timestamp (its capture
// time) copied into a header. What vision-qc costs is read against this, in the same run.
import { TOPICS } from '../schemas/topics.ts';
import { runPassthrough } from './lib.ts';

export const VISION_PASSTHROUGH_TOPIC = 'loadtest.vision-passthrough.v1';
export const VISION_PASSTHROUGH_GROUP = 'loadtest-vision-passthrough';

if (import.meta.main) {
  // Frames are large: fetch up to the topic's record limit per partition, as the runtime does.
  await runPassthrough({ name: 'vision-passthrough', groupId: VISION_PASSTHROUGH_GROUP, from: TOPICS.cameraFrames.name, to: VISION_PASSTHROUGH_TOPIC, maxBytesPerPartition: TOPICS.cameraFrames.maxMessageBytes });
}
