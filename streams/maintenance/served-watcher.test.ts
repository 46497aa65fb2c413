// The model watcher against the real MLflow server (MLFLOW_TRACKING_URI), with the maintenance
// scorer's served definition and real ONNX sessions, no Kafka: an alias move to a good version
// swaps the set; a version whose stored bytes differ from its sha256 tag is refused once (logged,
// not retried every poll) while the current set goes on serving; a deleted alias falls back to the
// committed directory; a registry that does not answer changes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../runtime/logger.ts';
import { DEFAULT_WORKER_SETTINGS } from '../runtime/kafka-runner.ts';
import { ArtifactCache } from '../runtime/model-registry/artifact-cache.ts';
import { MlflowClient } from '../runtime/model-registry/mlflow-client.ts';
import { startModelWatcher } from '../runtime/model-registry/model-watcher.ts';
import { ModelResolver } from '../runtime/model-registry/resolver.ts';
import { ServingSets, openServingSet, type ServingSet } from '../runtime/serving-set.ts';
import { freePort, mlflowTrackingUri, runId } from '../../test/integration/helpers.ts';
import { registerModelDir } from '../../test/integration/registered-models.ts';
import { DEFAULT_ARTIFACTS_DIR, failureModelDeclaration } from './model.ts';
import { servedMaintenanceScorer } from './served.ts';
import { writeModelVersion } from './test-model-version.ts';

function recordingLog() {
  const lines: { level: string; msg: string }[] = [];
  const log = createLogger({ test: true }).child({}, { level: 'silent' });
  for (const level of ['info', 'warn', 'error'] as const) log[level] = ((_: unknown, msg?: string) => void lines.push({ level, msg: msg ?? '' })) as typeof log.info;
  return { log, lines };
}

test('the watcher swaps on a good alias move, refuses a tampered version once, falls back to the committed dir, and rides out a dead registry', { timeout: 120_000 }, async () => {
  const id = runId();
  const name = `${id}-arm-failure-lgbm`;
  const tmp = mkdtempSync(join(tmpdir(), 'watcher-'));
  const base = failureModelDeclaration().version;
  const files = writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'committed'), base, name);
  writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v2'), `${base}-v2`, name);
  writeModelVersion(DEFAULT_ARTIFACTS_DIR, join(tmp, 'v3'), `${base}-v3`, name);
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 2 });
  const experiment = `${id}-watcher`;
  const v2 = await registerModelDir(client, { name, dir: join(tmp, 'v2'), files, experiment });
  const tampered = await registerModelDir(client, { name, dir: join(tmp, 'v3'), files, experiment, upload: (f, b) => (f === 'model.onnx' ? Buffer.concat([b, Buffer.from('!')]) : b) });
  const v3 = await registerModelDir(client, { name, dir: join(tmp, 'v3'), files, experiment });

  const { log, lines } = recordingLog();
  const served = servedMaintenanceScorer(undefined, join(tmp, 'committed'));
  const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: join(tmp, 'cache') }), log });
  const options = { served, settings: DEFAULT_WORKER_SETTINGS, log };
  const sets = new ServingSets(await openServingSet(options, await resolver.resolveAll(served.name, served.slots), 1), log);
  const swaps: number[] = [];
  let id2 = 1;
  const watcher = startModelWatcher({ served, resolver, sets, log, pollMs: 3_600_000, open: (resolved, current) => openServingSet(options, resolved, ++id2, current.def), onSwap: (next) => void swaps.push(next.id) });
  const versionOf = (s: ServingSet) => s.def.models!.find((m) => m.name === name)!.version;
  try {
    assert.equal(versionOf(sets.current()), base, 'no alias yet: the committed directory serves');

    await client.setAlias(name, 'champion', v2);
    await watcher.poll();
    assert.equal(versionOf(sets.current()), `${base}-v2`);
    assert.equal(sets.current().slots.find((s) => s.name === name)?.version, v2);

    await client.setAlias(name, 'champion', tampered);
    await watcher.poll();
    await watcher.poll();
    assert.equal(versionOf(sets.current()), `${base}-v2`, 'the refused version never serves');
    const refusals = lines.filter((l) => l.level === 'error' && /^REFUSED/.test(l.msg));
    assert.equal(refusals.length, 1, 'refused once, not at every poll');

    await client.setAlias(name, 'champion', v3);
    await watcher.poll();
    assert.equal(versionOf(sets.current()), `${base}-v3`);

    await client.deleteAlias(name, 'champion');
    await watcher.poll();
    assert.equal(versionOf(sets.current()), base, 'a deleted alias serves the committed directory again');
    assert.deepEqual(swaps, [2, 3, 4], 'three swaps (v2, v3, committed): the tampered version was refused at its download, before any set was opened');
  } finally {
    await watcher.stop();
    await sets.close();
  }

  // A registry that does not answer: the set in service stays, with a warning.
  const dead = new MlflowClient({ trackingUri: `http://127.0.0.1:${await freePort()}`, attempts: 1 });
  const deadResolver = new ModelResolver({ client: dead, cache: new ArtifactCache({ client: dead, dir: join(tmp, 'cache') }), log });
  const first = await openServingSet(options, served.slots.map((s) => ({ name: s.name, alias: 'champion', version: null, dir: s.committedDir })), 1);
  const deadSets = new ServingSets(first, log);
  const deadWatcher = startModelWatcher({ served, resolver: deadResolver, sets: deadSets, log, pollMs: 3_600_000, open: () => assert.fail('nothing to open') });
  try {
    await deadWatcher.poll();
    assert.equal(deadSets.current(), first);
    assert.ok(lines.some((l) => l.level === 'warn' && /reading the model registry failed/.test(l.msg)));
  } finally {
    await deadWatcher.stop();
    await deadSets.close();
    rmSync(tmp, { recursive: true, force: true });
  }
});
