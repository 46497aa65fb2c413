// Fault suite: a few thousand malformed records of every kind in fuzz-table.ts, interleaved with
// good ones, to EVERY input topic (raw readings -> sensor-validation, validated readings ->
// maintenance-scorer, billing events -> Parquet lake sink, camera frames -> vision-qc, document
// uploads -> documents), and each one accounted for: a dead
// letter with the expected stage, reason, coordinates and original bytes (or their digest), or
// passed to the output by the table's stated rule, once per copy sent; nothing missing, nothing
// twice. The processors must still be running and ready afterwards, without a consumer crash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeReport, runFuzz } from './fuzz-runner.ts';

/** Kind instances per input topic; FAULTS_FUZZ_RECORDS raises it for a longer local run. */
const PER_TOPIC = Number(process.env.FAULTS_FUZZ_RECORDS ?? 1_500);
const SEED = Number(process.env.FAULTS_FUZZ_SEED ?? 20261205);
/** FAULTS_FUZZ_TARGETS: only the targets whose label matches (e.g. `documents`), for working on one pipeline. */
const TARGETS = process.env.FAULTS_FUZZ_TARGETS ? new RegExp(process.env.FAULTS_FUZZ_TARGETS) : undefined;

test(`fuzz: ${PER_TOPIC} malformed and good records per input topic, each accounted for (seed ${SEED})`, { timeout: 300_000 }, async (t) => {
  const report = await runFuzz({ perTarget: PER_TOPIC, seed: SEED, targets: TARGETS }, (line) => t.diagnostic(line));
  const { summary, failures } = describeReport(report);
  for (const line of summary) t.diagnostic(line);
  if (failures.length) assert.fail(`run ${report.run} (FAULTS_FUZZ_SEED=${SEED} reproduces the records): ${failures.length} groups of problems\n${failures.join('\n')}`);
});
