// The scoring API for profiled plants: a request names its plant (plant_id), is checked against
// that plant's profile, scored by that plant's model and explained in its channels' words; a plant
// without a trained model or without a profile gets a 409 or a 404 that says so.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { parsePlantProfile, type PlantProfile } from '../../schemas/factory/plant-profile.ts';
import { PlantRegistry } from '../../schemas/factory/plant-registry.ts';
import { requestBody } from '../../loadtest/scoring-api.ts';
import { SIMULATOR_PROFILE } from './features.ts';
import { loadFailureModel, type FailureModel } from './model.ts';
import { plantScoring } from './plant-scoring.ts';
import { startScoringApi, type ScoringApi } from './scoring-api.ts';

// Two plants of simulator-like arms: line-7 (its temperature range ends at 100 degC) with a model, line-8 without one.
const line = (plantId: string): PlantProfile => parsePlantProfile({
  ...structuredClone(SIMULATOR_PROFILE), plant_id: plantId,
  channels: SIMULATOR_PROFILE.channels.map((c) => (c.name === 'temperature' ? { ...c, max: 100 } : c)),
});
let api: ScoringApi;
let model: FailureModel;
let url: string;
before(async () => {
  model = await loadFailureModel();
  const registry = new PlantRegistry([SIMULATOR_PROFILE, line('line-7'), line('line-8')]);
  const plants = [{ scoring: plantScoring(line('line-7'), model, false), predict: model.predict }];
  api = await startScoringApi(model, { port: 0, keyring: null, logger: pino({ level: 'silent' }), registry, plants });
  url = `http://127.0.0.1:${api.port}`;
});
after(async () => {
  await api?.close();
});

const post = (body: object) => fetch(`${url}/v1/score`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const history = (plantId?: string) => ({ ...(JSON.parse(requestBody('arm-7', 6)) as object), ...(plantId ? { plant_id: plantId } : {}) });

test('a request naming its plant is scored by that plant\'s model, in its channels\' words', async () => {
  const res = await post(history('line-7'));
  assert.equal(res.status, 200);
  const r = (await res.json()) as { plant_id: string; model_name: string; horizon_hours: number; explanation: { description: string }[] };
  assert.equal(r.plant_id, 'line-7');
  assert.equal(r.model_name, model.name);
  assert.equal(r.horizon_hours, 24);
  assert.ok(r.explanation.every((c) => /^(Vibration|Temperature|Pressure) /.test(c.description)), JSON.stringify(r.explanation));
});

test("the plant's profile decides what is valid; plants without a model or a profile are named", async () => {
  const hot = history('line-7') as { readings: { sensor: string; value: number }[] };
  hot.readings.find((r) => r.sensor === 'TEMPERATURE')!.value = 150;
  const res = await post(hot);
  assert.equal(res.status, 400);
  assert.match(JSON.stringify(await res.json()), /TEMPERATURE value 150 degC is outside the plausible range \[-50, 100\]/);
  const { plant_id: _, ...legacy } = hot as { plant_id?: string };
  assert.equal((await post(legacy)).status, 200, 'the default plant allows up to 1200 degC');
  const noModel = await post(history('line-8'));
  assert.equal(noModel.status, 409);
  assert.match(JSON.stringify(await noModel.json()), /plant line-8 has a profile but no trained model is served yet/);
  const unknown = await post(history('line-9'));
  assert.equal(unknown.status, 404);
  assert.match(JSON.stringify(await unknown.json()), /no plant profile for plant_id \\"line-9\\"/);
});
