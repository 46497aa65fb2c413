// Every processor the CLI runs is a ServedProcessor whose build, from the committed model
// directories, declares one model per slot under the slot's name: what `--describe` prints and
// what serves when no registry answers. (Per-pipeline tests compare the build with the processor
// as declared before: streams/maintenance/served.test.ts, streams/vision/served.test.ts.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PROCESSORS } from './processors.ts';
import { describeTopology } from './runtime/processor.ts';
import { committedDirs } from './runtime/served-processor.ts';

for (const [name, entry] of Object.entries(PROCESSORS)) {
  test(`${name}: built from the committed model directories, it declares one model per slot`, async () => {
    const served = await entry.load();
    assert.equal(served.name, name);
    const described = describeTopology(served.build(committedDirs(served)));
    assert.equal(described.processor, name);
    assert.deepEqual(described.models.map((m) => m.name).sort(), served.slots.map((s) => s.name).sort());
  });
}
