import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PLANTS_DIR, PlantRegistry } from './plant-registry.ts';
import { PlantProfileError } from './plant-profile.ts';

const simulator = JSON.parse(readFileSync(join(DEFAULT_PLANTS_DIR, 'plant-simulator.json'), 'utf8')) as Record<string, unknown>;

test('the shipped profiles load; the simulator plant keeps its three legacy channels', () => {
  const registry = PlantRegistry.load();
  const rules = registry.rulesFor('plant-01');
  assert.ok(rules);
  assert.deepEqual([...rules.channels.keys()], ['vibration', 'temperature', 'pressure']);
  assert.equal(rules.channels.get('temperature')?.kind, 'TEMPERATURE');
  assert.equal(registry.rulesFor('no-such-plant'), null);
});

test('a directory with a broken profile and a duplicate plant: every problem, by file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'plants-'));
  try {
    writeFileSync(join(dir, 'a.json'), JSON.stringify(simulator));
    writeFileSync(join(dir, 'b.json'), JSON.stringify({ ...simulator, sample_interval_ms: -1 }));
    writeFileSync(join(dir, 'c.json'), '{ not json');
    assert.throws(() => PlantRegistry.load(dir), (err: unknown) => {
      assert.ok(err instanceof PlantProfileError);
      assert.equal(err.problems.length, 2, err.message);
      assert.match(err.problems[0], /^b\.json \(plant-01\): sample_interval_ms /);
      assert.match(err.problems[1], /^c\.json: cannot read it as JSON/);
      return true;
    });
    rmSync(join(dir, 'b.json'));
    rmSync(join(dir, 'c.json'));
    writeFileSync(join(dir, 'd.json'), JSON.stringify(simulator));
    assert.throws(() => PlantRegistry.load(dir), /two profiles are for plant plant-01/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
