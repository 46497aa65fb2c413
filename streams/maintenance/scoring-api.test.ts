import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadFailureModel, type FailureModel } from './model.ts';
import { MAX_BODY_BYTES, startScoringApi, type ScoringApi } from './scoring-api.ts';
import { requestBody } from '../../loadtest/scoring-api.ts';

let api: ScoringApi;
let model: FailureModel;
let url: string;
before(async () => {
  model = await loadFailureModel();
  api = await startScoringApi(model, { port: 0 });
  url = `http://127.0.0.1:${api.port}`;
});
after(async () => {
  await api?.close();
});

const post = (body: string, type = 'application/json') => fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': type }, body });

test('scores an arm from its readings, with the model version and a worded explanation', async () => {
  const res = await post(requestBody('arm-042', 6));
  assert.equal(res.status, 200);
  const r = (await res.json()) as { arm_id: string; failure_probability: number; alert: boolean; threshold: number; model_version: string; explanation: { feature: string; description: string; contribution: number }[]; summary: string };
  assert.equal(r.arm_id, 'arm-042');
  assert.ok(r.failure_probability >= 0 && r.failure_probability <= 1);
  assert.equal(r.alert, r.failure_probability >= model.meta.threshold);
  assert.equal(r.model_version, model.version);
  assert.equal(r.explanation.length, 5);
  assert.ok(r.explanation.every((c) => c.description.length > 0 && Number.isFinite(c.contribution)));
  assert.match(r.summary, /^arm-042: \d+% risk of failure within 24 h/);
});

test('a wearing bearing scores higher than a healthy arm', async () => {
  const healthy = JSON.parse(requestBody('arm-1', 12)) as { readings: { sensor: string; value: number }[] };
  const worn = structuredClone(healthy);
  worn.readings.forEach((r, i) => {
    const wear = i / worn.readings.length;
    if (r.sensor === 'VIBRATION') r.value += 6 * wear * wear + (i % 2 ? 1 : -1) * 2 * wear;
    if (r.sensor === 'TEMPERATURE') r.value += 12 * wear;
  });
  const score = async (b: object) => ((await (await post(JSON.stringify(b))).json()) as { failure_probability: number }).failure_probability;
  assert.ok((await score(worn)) > (await score(healthy)));
});

test('bad requests get clear 4xx answers', async () => {
  const cases: [Promise<Response>, number, RegExp][] = [
    [post('{"arm_id": "a", "readings": ['), 400, /not JSON/],
    [post(JSON.stringify({ arm_id: 'a' })), 400, /must have required property 'readings'/],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'NOISE', value: 1, unit: 'x', event_time: 1 }] })), 400, /must be equal to one of the allowed values/],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'TEMPERATURE', value: 150, unit: 'degF', event_time: Date.now() - 1000 }] })), 400, /readings\[0\]: TEMPERATURE must be reported in degC/],
    [post('x'.repeat(MAX_BODY_BYTES + 10)), 413, /over the 1048576-byte limit/],
    [post('{}', 'text/plain'), 415, /application\/json/],
    [fetch(`${url}/v1/score`), 405, /POST/],
    [fetch(`${url}/nope`), 404, /no route/],
  ];
  for (const [response, status, message] of cases) {
    const res = await response;
    assert.equal(res.status, status);
    const body = (await res.json()) as { error: string; details: string[] };
    assert.match(`${body.error} ${body.details.join(' ')}`, message);
  }
});

test('exposes Prometheus metrics', async () => {
  const text = await (await fetch(`${url}/metrics`)).text();
  assert.match(text, /streamscore_api_request_duration_seconds_bucket\{[^}]*route="score",status="200"/);
  assert.match(text, /streamscore_api_scores_total/);
});
