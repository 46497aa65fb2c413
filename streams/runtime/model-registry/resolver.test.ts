// Model resolution and the artifact cache against the real MLflow server of the stack
// (MLFLOW_TRACKING_URI): NAME@champion resolves to the version's files in the cache, checked by
// sha256 against streamscore.files; bytes that differ from the tag are refused and never placed; a
// corrupted cached copy is fetched again; a missing model or alias, or no registry at all, serves
// the committed directory. The manifest parser's refusals are unit-tested here too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger } from '../logger.ts';
import { ArtifactCache, ModelArtifactError, parseFilesTag, sha256Hex } from './artifact-cache.ts';
import { MlflowClient } from './mlflow-client.ts';
import { ModelResolver, parseModelRef } from './resolver.ts';
import { mlflowTrackingUri, runId } from '../../../test/integration/helpers.ts';
import { registerModelDir } from '../../../test/integration/registered-models.ts';

const COMMITTED = fileURLToPath(new URL('../../../models/maintenance/artifacts/', import.meta.url));
const FILES = ['model-meta.json', 'model.onnx'];
const id = runId();

function recordingLog() {
  const lines: string[] = [];
  const log = createLogger({ test: true }).child({}, { level: 'silent' });
  log.warn = ((obj: unknown, msg?: string) => void lines.push(typeof obj === 'string' ? obj : (msg ?? ''))) as typeof log.warn;
  return { log, lines };
}

test('parseFilesTag takes a JSON object of relative path -> hex sha256 and refuses anything else, naming why', () => {
  const sha = 'a'.repeat(64);
  assert.deepEqual(parseFilesTag('m', '1', JSON.stringify({ 'model.onnx': sha, 'sub/x.json': sha })), { 'model.onnx': sha, 'sub/x.json': sha });
  assert.throws(() => parseFilesTag('m', '1', undefined), /m version 1 has no streamscore.files tag/);
  assert.throws(() => parseFilesTag('m', '1', 'not json'), /is not JSON/);
  assert.throws(() => parseFilesTag('m', '1', '[]'), /must be a JSON object/);
  assert.throws(() => parseFilesTag('m', '1', '{}'), /lists no files/);
  assert.throws(() => parseFilesTag('m', '1', JSON.stringify({ '../etc/passwd': sha, '/abs': sha, 'ok.bin': 'ABC' })), (err: Error) => {
    assert.ok(err instanceof ModelArtifactError);
    assert.match(err.message, /"\.\.\/etc\/passwd" is not a plain relative path/);
    assert.match(err.message, /"\/abs" is not a plain relative path/);
    assert.match(err.message, /"ok.bin": "ABC" is not a lowercase hex sha256/);
    return true;
  });
});

test('parseModelRef reads NAME@alias, champion by default', () => {
  assert.deepEqual(parseModelRef('arm-failure-lgbm@challenger'), { name: 'arm-failure-lgbm', alias: 'challenger' });
  assert.deepEqual(parseModelRef('arm-failure-lgbm'), { name: 'arm-failure-lgbm', alias: 'champion' });
  assert.throws(() => parseModelRef('m@bad alias'), /must be NAME@alias/);
});

test('without a registry every slot serves its committed directory, with one warning line', async () => {
  const { log, lines } = recordingLog();
  const resolver = new ModelResolver({ client: null, log });
  const slots = [{ name: 'a', committedDir: '/committed/a' }, { name: 'b', committedDir: '/committed/b' }];
  const resolved = await resolver.resolveAll('p', slots);
  assert.deepEqual(resolved.map((r) => [r.version, r.dir]), [[null, '/committed/a'], [null, '/committed/b']]);
  await resolver.resolveAll('p', slots);
  assert.equal(lines.length, 1);
  assert.match(lines[0], /MLFLOW_TRACKING_URI is not set/);
});

test('NAME@champion is downloaded into the cache, checked and reused; tampered bytes are refused; a missing alias serves the committed dir', { timeout: 120_000 }, async () => {
  const client = new MlflowClient({ trackingUri: mlflowTrackingUri(), attempts: 2 });
  const cacheDir = mkdtempSync(join(tmpdir(), 'model-cache-'));
  const name = `${id}-failure`;
  const { log, lines } = recordingLog();
  const resolver = new ModelResolver({ client, cache: new ArtifactCache({ client, dir: cacheDir }), log });
  const slot = { name, committedDir: COMMITTED };
  try {
    const v1 = await registerModelDir(client, { name, dir: COMMITTED, files: FILES, experiment: `${id}-serving` });
    // Registered, but no champion yet: the committed directory, said once.
    assert.equal(await resolver.aliasVersion(name), null);
    assert.deepEqual(await resolver.resolveAll('p', [slot]), [{ name, alias: 'champion', version: null, dir: COMMITTED }]);
    assert.equal(lines.filter((l) => /no registered model .* with alias champion/.test(l)).length, 1);

    await client.setAlias(name, 'champion', v1);
    const [resolved] = await resolver.resolveAll('p', [slot]);
    assert.equal(resolved.version, v1);
    assert.equal(resolved.dir, join(cacheDir, name, v1));
    for (const f of FILES) assert.ok(readFileSync(join(resolved.dir, f)).equals(readFileSync(join(COMMITTED, f))), `${f} is byte-exact`);
    assert.deepEqual(readdirSync(join(cacheDir, name)), [v1], 'no temporary directory is left behind');

    // A cached file that no longer matches its sha256 is fetched again.
    writeFileSync(join(resolved.dir, 'model.onnx'), 'corrupted');
    const [again] = await resolver.resolveAll('p', [slot]);
    assert.equal(sha256Hex(readFileSync(join(again.dir, 'model.onnx'))), sha256Hex(readFileSync(join(COMMITTED, 'model.onnx'))));

    // The store holds other bytes than the version's tag lists: refused, nothing placed in the cache.
    const tampered = await registerModelDir(client, {
      name, dir: COMMITTED, files: FILES, experiment: `${id}-serving`,
      upload: (f, bytes) => (f === 'model.onnx' ? Buffer.concat([bytes, Buffer.from('x')]) : bytes),
    });
    await client.setAlias(name, 'champion', tampered);
    await assert.rejects(resolver.resolveAll('p', [slot]), (err: Error) => {
      assert.ok(err instanceof ModelArtifactError, String(err));
      assert.match(err.message, new RegExp(`${name} version ${tampered}: model.onnx has sha256 [0-9a-f]{64}, but the streamscore.files tag says ${sha256Hex(readFileSync(join(COMMITTED, 'model.onnx')))}; refusing to serve it`));
      return true;
    });
    assert.ok(!existsSync(join(cacheDir, name, tampered)), 'the refused version is not in the cache');
    assert.deepEqual(readdirSync(join(cacheDir, name)), [v1], 'and its download was cleaned up');
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
});
