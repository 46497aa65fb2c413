// What the live processor published for a replayed range: its output topics read (read_committed,
// so an aborted transaction's outputs are not "live") from the first output written at or after the
// warm-up start up to `liveLagMs` after the range's end (outputs carry the wall-clock time they were
// produced, which follows their input's). Each output names its input (streamscore-source) and
// chunk (streamscore-chunk): the chunks become the replay's chunk plan, the outputs of the compared
// range the live side of the diff, and their streamscore-model headers the default models.
import type { Admin, Kafka } from 'kafkajs';
import { CHUNK_HEADER, SOURCE_HEADER } from '../batch.ts';
import type { Logger } from '../logger.ts';
import { MODEL_HEADER } from '../models.ts';
import type { ProcessorDefinition } from '../processor.ts';
import { offsetsAtTime, readRanges } from '../range-reader.ts';
import type { AvroSerde } from '../serde.ts';
import { ChunkPlan, parseCoordinates, partitionKey } from './chunk-plan.ts';
import { STAMP_FIELDS, type ComparedOutput } from './diff.ts';

/** Input offsets [warmStart, compareStart) warm the state; [compareStart, end) are compared. */
export interface InputRange {
  topic: string;
  partition: number;
  warmStart: number;
  compareStart: number;
  end: number;
}

export interface LiveOutputs {
  /** Outputs whose source lies in a compared range (any end: the caller trims to the final range). */
  outputs: (ComparedOutput & { sourceOffset: number; models: string[] })[];
  plan: ChunkPlan;
  /** Output records read. */
  read: number;
}

export interface ReadLiveOptions {
  kafka: Kafka;
  admin: Admin;
  def: ProcessorDefinition;
  /** Reads the def's output topics (prepareSerde has set them up). */
  serde: AvroSerde;
  inputs: InputRange[];
  /** The warm-up's start: live outputs from then on give its chunks. */
  warmFromMs: number;
  toMs: number;
  liveLagMs: number;
  log: Logger;
}

export async function readLiveOutputs(o: ReadLiveOptions): Promise<LiveOutputs> {
  const byInput = new Map(o.inputs.map((r) => [partitionKey(r.topic, r.partition), r]));
  const ranges = [];
  for (const t of o.def.outputs) {
    const [start, end] = await Promise.all([offsetsAtTime(o.admin, t.name, o.warmFromMs, o.log), offsetsAtTime(o.admin, t.name, o.toMs + o.liveLagMs, o.log)]);
    for (const [partition, s] of start) ranges.push({ topic: t.name, partition, start: s, end: end.get(partition) ?? s });
  }
  const plan = new ChunkPlan();
  const outputs: LiveOutputs['outputs'] = [];
  let read = 0;
  await readRanges({
    kafka: o.kafka,
    admin: o.admin,
    ranges,
    groupPrefix: `${o.def.name}-replay-live`,
    log: o.log,
    onRecords: async (_tp, records) => {
      read += records.length;
      for (const r of records) {
        const headers = Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, v.toString()]));
        const source = parseCoordinates(headers[SOURCE_HEADER]);
        const input = source && byInput.get(partitionKey(source.topic, source.partition));
        // Another processor's input, or before the warm-up: not this replay's.
        if (!source || !input || source.first < input.warmStart) continue;
        const value = (await o.serde.decode(r.topic, r.value)) as Record<string, unknown>;
        plan.add(headers[CHUNK_HEADER], stampOf(value) ?? r.timestamp);
        if (source.first < input.compareStart) continue;
        outputs.push({ topic: r.topic, key: r.key?.toString('utf8') ?? null, source: headers[SOURCE_HEADER], sourceOffset: source.first, models: (headers[MODEL_HEADER] ?? '').split(',').filter(Boolean), value });
      }
    },
  });
  return { outputs, plan, read };
}

/** The wall-clock stamp the handler put on an output (ctx.now()), if it has one. */
export function stampOf(value: Record<string, unknown>): number | undefined {
  for (const f of STAMP_FIELDS) if (typeof value[f] === 'number') return value[f] as number;
  return undefined;
}
