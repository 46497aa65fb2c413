// For drift tests: a reference.json of drift samples, written by models/common/reference.py (the
// trainers' writer, run by CI's .venv Python), so a test judges the monitor against a reference made
// exactly as a trained model's is. Only features with some finite value are kept (reference.py needs one).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { DriftSample } from './processor-drift.ts';
import { PREDICTION, parseModelReference, type ModelReference } from './reference.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const PYTHON = join(REPO, '.venv', 'bin', 'python');

/** A skip reason for node:test when CI's .venv (numpy) is missing, else false. */
export const noPythonReference: string | false = !existsSync(PYTHON) && 'CI .venv (numpy) missing: infra/bootstrap.sh';

export function pythonReference(samples: DriftSample[], model: { name: string; version: string }, source: string): ModelReference {
  const names = Object.keys(samples[0].values).filter((n) => n !== PREDICTION && samples.some((s) => Number.isFinite(s.values[n])));
  const dir = mkdtempSync(join(tmpdir(), 'drift-ref-'));
  try {
    const table = new Float64Array(samples.length * (names.length + 1));
    samples.forEach((s, i) => [...names, PREDICTION].forEach((n, j) => (table[i * (names.length + 1) + j] = s.values[n])));
    writeFileSync(join(dir, 'rows.f64'), table);
    const script = `import sys, json, numpy as np; sys.path.insert(0, ${JSON.stringify(join(REPO, 'models', 'common'))})
from reference import write_reference
names = ${JSON.stringify(names)}
t = np.fromfile(${JSON.stringify(join(dir, 'rows.f64'))}).reshape(-1, len(names) + 1)
write_reference(${JSON.stringify(dir)}, ${JSON.stringify(model.name)}, ${JSON.stringify(model.version)}, {n: t[:, i] for i, n in enumerate(names)}, t[:, -1], source=${JSON.stringify(source)})`;
    const r = spawnSync(PYTHON, ['-c', script], { encoding: 'utf8' });
    assert.equal(r.status, 0, `reference.py failed: ${r.stderr}`);
    return parseModelReference(JSON.parse(readFileSync(join(dir, 'reference.json'), 'utf8')), 'test reference');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
