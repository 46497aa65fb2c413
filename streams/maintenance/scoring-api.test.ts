import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createApiKey, parseRateLimit } from '../runtime/http/api-keys.ts';
import { ApiKeyring } from '../runtime/http/keyring.ts';
import { loadFailureModel, type FailureModel } from './model.ts';
import { MAX_BODY_BYTES, MAX_READINGS, startScoringApi, type ScoringApi } from './scoring-api.ts';
import { requestBody } from '../../loadtest/scoring-api.ts';
import { badRequests, sendRaw } from '../../loadtest/bad-requests.ts';

const keysFile = join(mkdtempSync(join(tmpdir(), 'streamscore-scoring-')), 'keys.json');
// A generous rate: these tests are about what the API answers, not about the limit.
const client = createApiKey(keysFile, { name: 'test', scopes: ['score', 'metrics'], rateLimit: parseRateLimit('10000/s') });
let api: ScoringApi;
let model: FailureModel;
let url: string;
before(async () => {
  model = await loadFailureModel();
  api = await startScoringApi(model, { port: 0, keyring: new ApiKeyring(keysFile), logger: pino({ level: 'silent' }) });
  url = `http://127.0.0.1:${api.port}`;
});
after(async () => {
  await api?.close();
});

const auth = { authorization: `Bearer ${client.token}` };
const post = (body: string, type = 'application/json') => fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': type, ...auth }, body });

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
    [post('x'.repeat(MAX_BODY_BYTES + 10)), 413, /over the 524288-byte limit/],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'VIBRATION', value: 1, unit: 'mm/s', event_time: 8.64e15 + 1 }] })), 400, /event_time must be epoch milliseconds between 2000 and 2100/],
    [post('{"arm_id": "a", "readings": [{"sensor": "VIBRATION", "value": 1e400, "unit": "mm/s", "event_time": 1764000000000}]}'), 400, /\/readings\/0\/value must be number/],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'VIBRATION', value: -1e308, unit: 'mm/s', event_time: Date.now() }] })), 400, /readings\[0\]: VIBRATION value -1e\+308 mm\/s is outside the plausible range/],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'VIBRATION', value: 1, unit: 'mm/s', event_time: 1.5e12 + 0.5 }] })), 400, /event_time must be integer/],
    [post(requestBody('arm-1', 25)), 400, new RegExp(`more than ${MAX_READINGS} elements`)],
    [post(JSON.stringify({ arm_id: 'a', readings: [{ sensor: 'VIBRATION', value: 1, unit: 'mm/s', event_time: Date.now(), extra: 1 }] })), 400, /unexpected property "extra"/],
    [post('{}', 'text/plain'), 415, /application\/json/],
    [fetch(`${url}/v1/score`, { headers: auth }), 405, /use POST/],
    [fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 401, /API key is required/],
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
  assert.equal((await fetch(`${url}/metrics`)).status, 401, '/metrics needs a key by default');
  const text = await (await fetch(`${url}/metrics`, { headers: auth })).text();
  assert.match(text, /streamscore_api_request_duration_seconds_bucket\{[^}]*route="score",status="200"/);
  assert.match(text, /streamscore_api_scores_total/);
});

test('semantic problems are listed up to 20, the validator stops there', async () => {
  const readings = JSON.parse(requestBody('arm-1', 12)) as { arm_id: string; readings: { unit: string }[] };
  for (const r of readings.readings) r.unit = 'furlongs';
  const res = await post(JSON.stringify(readings));
  assert.equal(res.status, 400);
  const body = (await res.json()) as { details: string[] };
  assert.equal(body.details.length, 20);
  assert.match(body.details[19], /^readings\[19\]: /);
});

test('a 12 h window of 3 sensors at one reading a minute is within the limits', async () => {
  assert.equal((await post(requestBody('arm-9', 12))).status, 200);
});

test('fuzz: a few hundred malformed requests of every kind get a 4xx, never a 5xx', async () => {
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });
  const requests = badRequests({ seed: 8, count: 300, token: client.token, maxBodyBytes: MAX_BODY_BYTES });
  const byKind = new Map<string, number[]>();
  for (let i = 0; i < requests.length; i += 4) {
    const batch = requests.slice(i, i + 4);
    const replies = await Promise.all(batch.map((r) => sendRaw(api.port, r, agent)));
    batch.forEach((r, j) => byKind.set(r.kind, [...(byKind.get(r.kind) ?? []), replies[j].status]));
  }
  agent.destroy();
  const bad = [...byKind].filter(([, statuses]) => statuses.some((s) => s < 400 || s >= 500));
  assert.deepEqual(bad, [], 'every malformed request gets a 4xx');
  assert.ok(byKind.size >= 20, `kinds covered: ${[...byKind.keys()].join(', ')}`);
  // The API is still healthy and scores afterwards.
  assert.equal((await post(requestBody('arm-2', 6))).status, 200);
});

test('--no-auth is refused unless the host is loopback', () => {
  const main = fileURLToPath(new URL('../../cli/main.ts', import.meta.url));
  const r = spawnSync(process.execPath, [main, 'scoring-api', '--no-auth', '--host', '0.0.0.0', '--port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--no-auth is refused on 0\.0\.0\.0/);
});
