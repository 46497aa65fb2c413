// Runs the fuzz table (fuzz-table.ts) against the live processors: generates each target's records
// from a seed (every kind at least once, interleaved with good records), sends them, waits until
// every processor has committed past them, then accounts for EACH record: dead-lettered once with
// the expected stage and reason (dead-letters.ts checks the letter itself), or passed to the output
// as many times as it was sent, and nothing else. Returns the problems, grouped by kind.
import { mkdtempSync, rmSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import avro from 'avsc';
import { TOPICS, dlqSpec, dlqTopic, loadSchema } from '../../schemas/topics.ts';
import { mixSeed, seededRandom } from '../../streams/runtime/random.ts';
import { ConfluentSchemaStore } from '../../streams/runtime/schema-store.ts';
import { AvroSerde } from '../../streams/runtime/serde.ts';
import { RedisState } from '../../streams/runtime/state/redis-state.ts';
import { ensureTopics } from '../../streams/runtime/topics-admin.ts';
import { endpoints, quietLog, testKafka } from '../integration/helpers.ts';
import { deadLetterProblems, readDeadLetters, type DeadLetter } from './dead-letters.ts';
import { kindsOf } from './fuzz-table.ts';
import { fuzzTargets, useOutputReaders, type FuzzEnv, type FuzzTarget, type Sent } from './fuzz-targets.ts';
import { coordinateKey, currentEnds, endOffsets, produceTracked, waitForCommits } from './kafka-io.ts';
import { goodRecord, type FuzzKind, type FuzzRecord, type KindContext } from './malformed.ts';
import { anyStopped, liveness, stopAll, type Watched } from './pipeline.ts';

export interface FuzzOptions {
  /** Kind instances per input topic (a duplicate or a late pair is one instance, two records). */
  perTarget: number;
  seed: number;
  /** Only the kinds whose name matches (plus good records). */
  only?: RegExp;
  /** Only the targets whose label matches (all when undefined). */
  targets?: RegExp;
  /** Share of instances that are good records (default 0.4). */
  goodShare?: number;
}

export interface KindTally {
  target: string;
  kind: string;
  records: number;
  problems: string[];
}

export interface FuzzReport {
  run: string;
  tallies: KindTally[];
  /** Problems not tied to one kind: processors down, timeouts. */
  general: string[];
}

const header = (id: number) => Buffer.from([0, (id >>> 24) & 0xff, (id >>> 16) & 0xff, (id >>> 8) & 0xff, id & 0xff]);

interface Encoders {
  serde: AvroSerde;
  ids: Map<string, number>;
  /** A valid record of another topic, per target topic. */
  other: (topic: string) => Buffer;
}

function contextFor<V extends object>(target: FuzzTarget<V>, enc: Encoders, run: string, n: number, random: () => number, now: number): KindContext<V> {
  let good: V | undefined;
  const schema = loadSchema(target.topic.schema) as { fields: { name: string; type: unknown }[] };
  const id = enc.ids.get(target.topic.name)!;
  return {
    random,
    marker: `${run}-${n}`,
    good: () => (good ??= target.table.good(run, n, now)),
    markerOf: target.table.markerOf,
    keyOf: target.table.keyOf,
    encode: (v) => enc.serde.encode(target.topic.name, v),
    encodeVariant: (value, field, type) => {
      const variant = avro.Type.forSchema({ ...schema, fields: schema.fields.map((f) => (f.name === field ? { ...f, type } : f)) } as avro.Schema);
      return Buffer.concat([header(id), variant.toBuffer(value)]);
    },
    otherTopicRecord: () => enc.other(target.topic.name),
    schemaId: id,
  };
}

/** Every kind once, then random kinds (by weight, within their `max`) and good records up to `perTarget` instances (the target's own cap, if lower). */
export function generate<V extends object>(target: FuzzTarget<V>, enc: Encoders, run: string, options: FuzzOptions, salt: number): FuzzRecord[] {
  const random = seededRandom(mixSeed(options.seed, salt));
  const kinds = kindsOf(target.table, options.only);
  const used = new Map<string, number>();
  const out: FuzzRecord[] = [];
  const now = Date.now();
  const perTarget = Math.min(options.perTarget, target.perTarget ?? Infinity);
  let n = 0;
  const add = (kind?: FuzzKind<V>) => {
    const c = contextFor(target, enc, run, n++, random, now);
    if (kind) used.set(kind.name, (used.get(kind.name) ?? 0) + 1);
    out.push(...(kind ? kind.records(c) : [goodRecord(c)]));
  };
  for (const k of kinds) add(k);
  while (n < perTarget) {
    const open = kinds.filter((k) => (used.get(k.name) ?? 0) < (k.max ?? Infinity));
    const total = open.reduce((s, k) => s + (k.weight ?? 1), 0);
    if (random() < (options.goodShare ?? 0.4) || total === 0) {
      add();
      continue;
    }
    let pick = random() * total;
    add(open.find((k) => (pick -= k.weight ?? 1) < 0) ?? open[open.length - 1]);
  }
  return out;
}

/** Per kind: which of the target's records were not what their fate says. */
export function account(target: FuzzTarget, sent: Sent[], deadLetters: Map<string, DeadLetter[]>, counts: Map<string, number>): KindTally[] {
  const tallies = new Map<string, KindTally>();
  const tally = (kind: string) => tallies.get(kind) ?? tallies.set(kind, { target: target.label, kind, records: 0, problems: [] }).get(kind)!;
  const passKey = (s: Sent) => (target.passKey === 'coordinates' ? coordinateKey(s.at) : s.record.marker);
  const expected = new Map<string, number>();
  const kindsByKey = new Map<string, Set<string>>();
  for (const s of sent) {
    const key = passKey(s);
    kindsByKey.set(key, (kindsByKey.get(key) ?? new Set()).add(s.record.kind));
    if ('passes' in s.record.expect) expected.set(key, (expected.get(key) ?? 0) + 1);
  }
  for (const s of sent) {
    const t = tally(s.record.kind);
    t.records++;
    const where = `${coordinateKey(s.at)} (${s.record.marker.slice(0, 60)})`;
    const letters = deadLetters.get(coordinateKey(s.at)) ?? [];
    if ('deadLetter' in s.record.expect) {
      if (letters.length === 0) t.problems.push(`${where}: not dead-lettered (expected stage ${s.record.expect.deadLetter})`);
      else if (letters.length > 1) t.problems.push(`${where}: dead-lettered ${letters.length} times`);
      else for (const p of deadLetterProblems(s.record, s.at, letters[0], target.processor, target.topic)) t.problems.push(`${where}: ${p}`);
    } else if (letters.length) {
      const v = letters[0].value;
      t.problems.push(`${where}: dead-lettered (${v?.stage} ${v?.error_class}: ${v?.error_message.slice(0, 160)}) but should pass: ${s.record.expect.passes}`);
    }
  }
  for (const key of new Set([...expected.keys(), ...counts.keys()])) {
    const want = expected.get(key) ?? 0;
    const got = counts.get(key) ?? 0;
    if (want === got) continue;
    const kinds = kindsByKey.get(key);
    const message = `${key.slice(0, 80)}: came out ${got} times, expected ${want}`;
    if (kinds) for (const k of kinds) tally(k).problems.push(message);
    else tally('(not sent by this run)').problems.push(message);
  }
  return [...tallies.values()];
}

/** One test's fuzz run: every target's records, its processor, the accounting. */
export async function runFuzz(options: FuzzOptions, note: (line: string) => void): Promise<FuzzReport> {
  const ep = endpoints();
  const run = `fz${Date.now().toString(36)}${randomUUID().slice(0, 4)}`;
  const dir = mkdtempSync(join(tmpdir(), 'ss-faults-fuzz-'));
  const all = fuzzTargets({ run, dir });
  const targets = options.targets ? all.filter((t) => options.targets!.test(t.label)) : all;
  if (targets.length === 0) throw new Error(`no fuzz target's label matches ${options.targets}; the labels: ${all.map((t) => t.label).join(', ')}`);
  // A valid record of the first target whose schema differs: its id resolves, to the wrong record type.
  const otherOf = (mine: FuzzTarget) => all.find((t) => t.topic.schema !== mine.topic.schema)!;
  const kafka = testKafka();
  const redis = new RedisState(ep.redisUrl);
  await redis.connect();
  const admin = kafka.admin();
  await admin.connect();
  const throwaway = targets.map((t) => t.topic).filter((t) => !Object.values(TOPICS).some((c) => c.name === t.name));
  const processors: Watched[] = [];
  const general: string[] = [];
  try {
    await ensureTopics(admin, targets.flatMap((t) => [t.topic, dlqSpec(t.topic)]), quietLog);
    const serde = new AvroSerde(new ConfluentSchemaStore(ep.schemaRegistryUrl));
    const ids = new Map<string, number>();
    for (const t of new Set([...targets, ...targets.map(otherOf)])) ids.set(t.topic.name, await serde.useTopic(t.topic.name, loadSchema(t.topic.schema)));
    useOutputReaders(serde);
    const enc: Encoders = {
      serde,
      ids,
      other: (topic) => {
        const other = otherOf(targets.find((t) => t.topic.name === topic)!);
        return serde.encode(other.topic.name, other.table.good(run, 0, Date.now()));
      },
    };
    for (const t of targets) processors.push(await t.start(ep));
    const from = await currentEnds(kafka, [...new Set(targets.flatMap((t) => [...t.outputs, dlqTopic(t.topic.name)]))]);
    const sent = new Map<FuzzTarget, Sent[]>();
    for (const [i, target] of targets.entries()) {
      const records = generate(target, enc, run, options, i);
      const started = Date.now();
      const at = await produceTracked(kafka, target.topic.name, target.topic.partitions, records);
      sent.set(target, records.map((record, j) => ({ record, at: at[j] })));
      note(`${target.label}: sent ${records.length} records of ${new Set(records.map((r) => r.kind)).size} kinds in ${Date.now() - started} ms`);
    }
    const started = Date.now();
    await Promise.all(targets.map((t) => waitForCommits(kafka, t.groupId, t.topic.name, endOffsets(sent.get(t)!.map((s) => s.at), t.topic.name), 120_000, anyStopped(processors)).catch((err: Error) => void general.push(err.message))));
    note(`processors committed past the records in ${Date.now() - started} ms`);
    const deadLetters = await readDeadLetters(kafka, ep.schemaRegistryUrl, targets.map((t) => t.topic), from);
    const sentDirectly = new Set([...sent.values()].flat().map((s) => coordinateKey(s.at)));
    const env: FuzzEnv = { run, kafka, redis, serde, from, sentDirectly };
    const tallies: KindTally[] = [];
    for (const target of targets) {
      const observed = await target.observe(env, sent.get(target)!);
      general.push(...observed.problems.map((p) => `${target.label}: ${p}`));
      tallies.push(...account(target, sent.get(target)!, deadLetters, observed.counts));
    }
    general.push(...liveness(processors));
    return { run, tallies, general };
  } finally {
    await stopAll(processors);
    if (throwaway.length) await admin.deleteTopics({ topics: throwaway.flatMap((t) => [t.name, dlqTopic(t.name)]) }).catch(() => undefined);
    await admin.disconnect();
    await redis.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as lines: one per kind with its counts, then the problems (at most `perKind` per kind). */
export function describeReport(report: FuzzReport, perKind = 3): { summary: string[]; failures: string[] } {
  const summary = report.tallies.map((t) => `${t.target} | ${t.kind}: ${t.records} records, ${t.problems.length ? `${t.problems.length} PROBLEMS` : 'all as expected'}`);
  const failures = [
    ...report.general,
    ...report.tallies.filter((t) => t.problems.length).map((t) => `${t.target} | ${t.kind} (${t.problems.length} problems in ${t.records} records):\n    ${t.problems.slice(0, perKind).join('\n    ')}`),
  ];
  return { summary, failures };
}
