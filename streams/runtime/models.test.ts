// Models as a runtime concept: loaded once with the signature checked, listed by describe, named in a header.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { TOPICS } from '../../schemas/topics.ts';
import { loadModels, modelHeaderValue, ModelSignatureError } from './models.ts';
import { defineProcessor, describeTopology } from './processor.ts';
import { TEST_TASK_MODULE, fixtureModel, offloadProcessor } from './fixtures/offload-processor.ts';

test('a model whose graph matches its signature loads once and runs', async () => {
  const models = await loadModels([fixtureModel()], { intraOpThreads: 1 });
  try {
    const out = await models['fixture-failure-model'].run({ features: new ort.Tensor('float32', new Float32Array(2 * 42), [2, 42]) });
    assert.deepEqual(out.probabilities.dims, [2, 2]);
    const [p0, p1] = out.probabilities.data as Float32Array;
    assert.ok(Math.abs(p0 + p1 - 1) < 1e-5, 'a row of class probabilities sums to 1');
  } finally {
    await models['fixture-failure-model'].close();
  }
});

test('a signature mismatch fails at load with every difference named', async () => {
  const wrong = fixtureModel({ signature: { inputs: { features: { type: 'float64', shape: ['N', 41] } }, outputs: { scores: { type: 'float32', shape: ['N'] } } } });
  await assert.rejects(loadModels([wrong], { intraOpThreads: 1 }), (err: Error) => {
    assert.ok(err instanceof ModelSignatureError);
    assert.match(err.message, /^model fixture-failure-model@test\.1 \(.*model\.onnx\) does not match the signature its processor declares/);
    assert.match(err.message, /input "features" is float32, the processor expects float64/);
    assert.match(err.message, /input "features" has shape \[\?, 42\], the processor expects \[N, 41\]/);
    assert.match(err.message, /output "scores" is not in the graph \(its outputs: label, probabilities\)/);
    return true;
  });
  await assert.rejects(loadModels([fixtureModel({ file: '/nonexistent/model.onnx' })], { intraOpThreads: 1 }), /model fixture-failure-model@test\.1: cannot load \/nonexistent\/model\.onnx/);
});

test('describe lists the models with their signatures and the worker pool; the header names every model', () => {
  const second = fixtureModel({ name: 'second', version: '2' });
  const def = offloadProcessor({ name: 'describe-test', input: TOPICS.sensorReadings, output: TOPICS.sensorReadingsValidated, recordDeadlineMs: 750, models: [fixtureModel(), second] });
  const d = describeTopology(def);
  assert.deepEqual(d.models.map((m) => [m.name, m.version, m.inputs, m.outputs]), [
    ['fixture-failure-model', 'test.1', { features: 'float32[N, 42]' }, { probabilities: 'float32[N, 2]' }],
    ['second', '2', { features: 'float32[N, 42]' }, { probabilities: 'float32[N, 2]' }],
  ]);
  assert.deepEqual(d.workers, { module: TEST_TASK_MODULE, recordDeadlineMs: 750 });
  assert.match(d.steps.join('\n'), /offloaded to the worker pool/);
  assert.equal(modelHeaderValue(def.models!), 'fixture-failure-model@test.1,second@2');
});

test('a processor declaring the same model name twice, or a relative worker module, is refused', () => {
  assert.throws(() => offloadProcessor({ name: 'twice', input: TOPICS.sensorReadings, output: TOPICS.sensorReadingsValidated, recordDeadlineMs: 1, models: [fixtureModel(), fixtureModel()] }), /declares model fixture-failure-model twice/);
  const base = { name: 'relative', description: 'd', inputs: [TOPICS.sensorReadings], outputs: [], semantics: 'at-least-once' as const, semanticsReason: 'r', handle: async () => [] };
  assert.throws(() => defineProcessor({ ...base, workers: { module: './task.ts', recordDeadlineMs: 1_000 } }), /workers.module must be an absolute path or a file URL, got \.\/task\.ts/);
  assert.throws(() => defineProcessor({ ...base, workers: { module: TEST_TASK_MODULE, recordDeadlineMs: 0 } }), /recordDeadlineMs must be a number of milliseconds > 0/);
});
