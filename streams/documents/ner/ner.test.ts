// The committed NER model through the runtime's model handle, held equal to Python on the fixtures
// that models/documents/make_fixture.py wrote with the same ONNX graph: token ids of every chunk,
// entity spans (Python code points converted to UTF-16 here) and the contract type.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FileModelSource, type LoadedModel } from '../../runtime/models.ts';
import { chunkIds, chunkStarts, codePointToUtf16, tokenize } from './chunking.ts';
import { DEFAULT_NER_MODEL_DIR, loadNerMeta, nerModelSpec, nerWordPieces, type NerModelSpec } from './model.ts';
import { runNer } from './ner.ts';

interface Fixture {
  name: string;
  model_version: string;
  text: string;
  tokens: number;
  chunks: number;
  chunk_ids: number[][];
  entities: { label: string; start: number; end: number; text: string; confidence: number }[];
  contract_type: { label: string; confidence: number } | null;
}

const FIXTURE_DIR = new URL('./fixtures/', import.meta.url).pathname;
const fixtures: Fixture[] = readdirSync(FIXTURE_DIR)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .map((f) => JSON.parse(readFileSync(join(FIXTURE_DIR, f), 'utf8')) as Fixture);

let spec: NerModelSpec;
let model: LoadedModel;

before(async () => {
  spec = nerModelSpec();
  model = await new FileModelSource().load(spec, { intraOpThreads: 1 });
});
after(async () => {
  await model?.close();
});

test('fixtures exist, were made with the committed model, and include non-ASCII and multi-chunk texts', () => {
  assert.ok(fixtures.length >= 3, `fixtures in ${FIXTURE_DIR}`);
  for (const f of fixtures) assert.equal(f.model_version, spec.version, `${f.name}: made with ${f.model_version}; rerun models/documents/make_fixture.py`);
  assert.ok(fixtures.some((f) => f.chunks >= 3), 'a fixture needs several chunks');
  assert.ok(fixtures.some((f) => /[^\u0000-\uffff]/u.test(f.text)), 'a fixture has a character outside the BMP');
  assert.ok(fixtures.some((f) => f.entities.length > 0), 'a fixture has entities');
});

test('token ids of every chunk equal Python\'s', () => {
  const pieces = nerWordPieces(spec);
  for (const f of fixtures) {
    const tok = tokenize(f.text, pieces);
    const starts = chunkStarts(tok.ids.length, spec.meta.max_length, spec.meta.stride);
    assert.equal(tok.ids.length, f.tokens, `${f.name}: token count`);
    assert.deepEqual(chunkIds(tok.ids, starts, spec.meta.max_length, pieces), f.chunk_ids, `${f.name}: chunk token ids`);
  }
});

test('entities and contract type equal Python\'s (offsets converted to UTF-16)', async () => {
  for (const f of fixtures) {
    const got = await runNer(model, spec, f.text);
    assert.equal(got.tokens, f.tokens);
    assert.equal(got.chunks, f.chunks);
    const cp = codePointToUtf16(f.text);
    const want = f.entities.map((e) => ({ label: e.label, start: cp[e.start], end: cp[e.end], text: e.text }));
    assert.deepEqual(got.entities.map(({ label, start, end, text }) => ({ label, start, end, text })), want, `${f.name}: entity spans`);
    got.entities.forEach((e, i) => assert.ok(Math.abs(e.confidence - f.entities[i].confidence) < 1e-4, `${f.name}: confidence of ${e.label} "${e.text}": ${e.confidence} vs ${f.entities[i].confidence}`));
    if (f.contract_type === null) assert.equal(got.contractType, null);
    else {
      assert.equal(got.contractType?.label, f.contract_type.label, `${f.name}: contract type`);
      assert.ok(Math.abs(got.contractType!.confidence - f.contract_type.confidence) < 1e-4);
    }
  }
});

test('throughput on one core (reported; the benchmark in docs/benchmarks.md is the lead\'s)', async () => {
  const long = fixtures.reduce((a, b) => (b.tokens > a.tokens ? b : a));
  const started = performance.now();
  const got = await runNer(model, spec, long.text);
  const seconds = (performance.now() - started) / 1000;
  console.log(`# NER: ${got.tokens} tokens in ${got.chunks} chunks, ${(got.tokens / seconds).toFixed(0)} tokens/s (1 intra-op thread)`);
  assert.ok(got.tokens > 0);
});

test('bad input and bad artifacts give clear errors', async () => {
  await assert.rejects(runNer(model, spec, 42 as unknown as string), /needs the document text as a string/);
  const dir = mkdtempSync(join(tmpdir(), 'ner-meta-'));
  try {
    assert.throws(() => nerModelSpec(dir), /model-meta\.json is missing/);
    const meta = JSON.parse(readFileSync(join(DEFAULT_NER_MODEL_DIR, 'model-meta.json'), 'utf8'));
    writeFileSync(join(dir, 'model-meta.json'), JSON.stringify({ ...meta, stride: meta.max_length, decision_threshold: {} }));
    assert.throws(() => loadNerMeta(dir), (err: Error) => /stride must be/.test(err.message) && /decision_threshold\.PARTY/.test(err.message));
    writeFileSync(join(dir, 'model-meta.json'), JSON.stringify(meta));
    assert.throws(() => nerModelSpec(dir), /legal-ner\.onnx is missing/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
