// `streamscore replay` refuses bad arguments with exit code 2 and a line that says why, before it
// connects to anything (the replay itself is tested against the stack: test/integration/replay.test.ts).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const main = fileURLToPath(new URL('./main.ts', import.meta.url));
const replay = (...args: string[]) => spawnSync(process.execPath, [main, 'replay', ...args], { encoding: 'utf8' });

describe('streamscore replay arguments', () => {
  it('--help prints the usage', () => {
    const r = replay('--help');
    assert.equal(r.status, 0);
    assert.match(r.stdout, /usage: streamscore replay PROCESSOR --from T1 --to T2/);
    assert.match(r.stdout, /--fail-on-diff/);
  });

  for (const [args, why] of [
    [[], /which processor\? \(processors: .*maintenance-scorer/],
    [['no-such', '--from', '2026-01-01', '--to', '2026-01-02'], /unknown processor "no-such"/],
    [['maintenance-scorer', '--to', '2026-01-02'], /--from and --to are required/],
    [['maintenance-scorer', '--from', 'yesterday', '--to', '2026-01-02'], /--from "yesterday" is not a time/],
    [['maintenance-scorer', '--from', '2026-01-02', '--to', '2026-01-01'], /--from 2026-01-02 must be before --to 2026-01-01/],
    [['maintenance-scorer', '--from', '2026-01-01', '--to', '2026-01-02', '--live-lag', 'long'], /--live-lag "long" is not a duration/],
    [['maintenance-scorer', '--from', '2026-01-01', '--to', '2026-01-02', '--warm-up', 'two days'], /--warm-up "two days" is not a duration/],
    [['maintenance-scorer', '--from', '2026-01-01', '--to', '2026-01-02', '--bogus'], /Unknown option '--bogus'/],
  ] as const) {
    it(`exits 2: ${args.join(' ') || '(no arguments)'}`, () => {
      const r = replay(...args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, why);
    });
  }
});
