// When the alert rules fire, on synthetic series: `promtool test rules` runs every
// prometheus/*.promtest.yml (a sustained condition fires with its labels and text, a short burst
// stays quiet). alert-rules.test.ts checks that the metric names exist; this checks the thresholds
// and `for` windows do what the runbooks in docs/operations.md say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';

const DIR = new URL('./prometheus/', import.meta.url).pathname;
const promtests = readdirSync(DIR).filter((f) => f.endsWith('.promtest.yml'));

test('the alert rules fire as their promtool unit tests expect', (t) => {
  assert.ok(promtests.length >= 1, `no *.promtest.yml in ${DIR}`);
  const r = spawnSync('promtool', ['test', 'rules', ...promtests], { cwd: DIR, encoding: 'utf8' });
  if (r.error) {
    t.skip('promtool is not installed (apt-get install prometheus)');
    return;
  }
  assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
  assert.equal((r.stdout.match(/SUCCESS/g) ?? []).length, promtests.length, r.stdout);
});
