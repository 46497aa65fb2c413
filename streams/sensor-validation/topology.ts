// sensor-validation: the first processor on factory readings. It validates each raw reading
// (schemas/factory/sensor-reading-rules.ts; failures go to factory.sensor-readings.v1.dlq with the reason) and forwards valid ones
// unchanged to factory.sensor-readings-validated.v1. Per arm it keeps the highest gateway sequence
// seen in Redis and marks a forwarded reading that follows a gap with a header, so lost readings
// are visible downstream without holding anything back.
import { TOPICS } from '../../schemas/topics.ts';
import type { SensorReading } from '../../schemas/generated/types.ts';
import { defineProcessor, type OutputRecord } from '../runtime/processor.ts';
import { latestByKey } from '../runtime/state/latest-by-key.ts';
import { validateReading } from '../../schemas/factory/sensor-reading-rules.ts';
import { defaultPlantRegistry } from '../../schemas/factory/plant-registry.ts';

/** Header on a validated reading: how many of the arm's sequence numbers are missing just before it. */
export const SEQUENCE_GAP_HEADER = 'streamscore.sequence.gap';
/** Each plant's channels, units and ranges from its profile; read when the processor is loaded, so a broken profile stops the start. */
const plants = defaultPlantRegistry();
const STATE_TTL_MS = 7 * 24 * 3_600_000;

export const sensorValidation = defineProcessor({
  name: 'sensor-validation',
  description: 'Validates raw gateway readings and forwards the valid ones unchanged; tracks per-arm sequence gaps.',
  inputs: [TOPICS.sensorReadings],
  outputs: [TOPICS.sensorReadingsValidated],
  semantics: 'exactly-once',
  semanticsReason: 'rolling-window features downstream would count a duplicated reading twice',
  state: { lastSequence: latestByKey({ ttlMs: STATE_TTL_MS }) },
  validate: (r: SensorReading, record) => validateReading(r, record.timestamp, plants.rulesFor(r.plant_id)),
  async handle(records, ctx) {
    // The gateway numbers each arm's readings (all sensors) 0, 1, 2, ...; max-merge in Redis makes a
    // redelivered batch a no-op (its gap headers are then not repeated: they are advisory).
    const entries = records.map((r) => ({ key: r.value.arm_id, order: r.value.sequence, payload: String(r.value.event_time) }));
    const previous = await ctx.state.lastSequence.update(entries);
    return records.map((r, i): OutputRecord => {
      const prev = previous[i];
      const gap = prev !== null && r.value.sequence > prev + 1 ? r.value.sequence - prev - 1 : 0;
      return {
        topic: TOPICS.sensorReadingsValidated,
        key: r.value.arm_id,
        value: r.value,
        headers: gap > 0 ? { [SEQUENCE_GAP_HEADER]: String(gap) } : undefined,
        source: r,
      };
    });
  },
});
