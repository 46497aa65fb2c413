// The baseline of the end-to-end benchmark: a raw kafkajs consume -> produce loop with no work at
// all (no decode, no state, no model, no transactions), from factory.sensor-readings.v1 to
// loadtest.passthrough.v1. What the pipeline costs is read as a ratio against this, measured in the
// same run on the same machine.
import { TOPICS } from '../schemas/topics.ts';
import { runPassthrough } from './lib.ts';

export const PASSTHROUGH_TOPIC = 'loadtest.passthrough.v1';
export const PASSTHROUGH_GROUP = 'loadtest-passthrough';

if (import.meta.main) {
  await runPassthrough({ name: 'passthrough', groupId: PASSTHROUGH_GROUP, from: TOPICS.sensorReadings.name, to: PASSTHROUGH_TOPIC });
}
