// The runtime is a library every pipeline and edge uses: it must not reach into the dev stack
// (infra/), into the edges (connectors/ use the runtime, not the other way round) or into one
// pipeline's folder, and the edges must not import a pipeline's rules (shared rules live next to the schema they check, e.g. schemas/factory/sensor-reading-rules.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** Every relative import and dynamic import() of every .ts file under `dir`, resolved to a repo path. */
function importsUnder(dir: string): { file: string; target: string }[] {
  const out: { file: string; target: string }[] = [];
  for (const f of readdirSync(join(REPO, dir), { recursive: true, encoding: 'utf8' })) {
    if (!f.endsWith('.ts') || f.split('/').includes('node_modules')) continue;
    const path = join(REPO, dir, f);
    const source = readFileSync(path, 'utf8');
    for (const m of source.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|\bimport\s+)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      out.push({ file: relative(REPO, path), target: relative(REPO, resolve(dirname(path), m[1])) });
    }
  }
  return out;
}

/** The pipeline folders: every folder of streams/ except the runtime itself. */
function pipelineFolders(): string[] {
  return readdirSync(join(REPO, 'streams'), { withFileTypes: true })
    .filter((e) => e.isDirectory() && e.name !== 'runtime')
    .map((e) => `streams/${e.name}/`);
}

test('streams/runtime imports nothing from infra/, connectors/ or a pipeline folder', () => {
  const pipelines = pipelineFolders();
  assert.ok(pipelines.includes('streams/maintenance/') && pipelines.includes('streams/sensor-validation/'), `pipeline folders found: ${pipelines.join(', ')}`);
  const imports = importsUnder('streams/runtime');
  assert.ok(imports.length > 50, 'the scan found the runtime imports');
  const offending = imports.filter(({ target }) => target.startsWith('infra/') || target.startsWith('connectors/') || pipelines.some((p) => target.startsWith(p)));
  assert.deepEqual(offending, [], 'the runtime must get what it needs through its config (env) or from schemas/, never from infra/, an edge (connectors/) or a pipeline');
});

test("connectors/ import no pipeline's rules", () => {
  const imports = importsUnder('connectors');
  const offending = imports.filter(({ target }) => /^streams\/(?!runtime\/)[^/]+\/(.*rules.*)$/.test(target));
  assert.deepEqual(offending, [], 'shared rules belong next to the schema they check (schemas/<domain>/<schema>-rules.ts)');
});
