// `documents extract` on files, no stack: one JSON object per file with the ExtractedEntities
// fields, a bad file reported and the rest going on (exit 1 at the end), the OCR switch, and the
// page texts written where asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { runExtract } from './extract-files.ts';

const fixture = (name: string) => new URL(`./pages/fixtures/${name}`, import.meta.url).pathname;

async function extract(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runExtract(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

test('PDF, text and a bad PDF: one JSON object each, the bad one with its reason, exit 1', { timeout: 120_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'extract-'));
  try {
    const text = join(dir, 'contract.txt');
    writeFileSync(text, 'SUPPLY AGREEMENT\n\nThis Supply Agreement is made on March 1, 2021 between Acme Inc. and Beta LLC.\fThis Agreement is governed by the laws of the State of Delaware.');
    const pagesOut = join(dir, 'pages');
    const r = await extract([fixture('contract.pdf'), text, fixture('encrypted-user-password.pdf'), '--json', '--pages-out', pagesOut]);
    assert.equal(r.code, 1, r.err.join('\n'));
    const [pdf, txt, bad] = r.out.map((l) => JSON.parse(l));
    assert.deepEqual([pdf.kind, pdf.pages, pdf.ocr_used, pdf.page_sources.map((p: { source: string }) => p.source)], ['pdf', 3, false, ['text-layer', 'text-layer', 'text-layer']]);
    assert.deepEqual([txt.kind, txt.pages], ['text', 2]);
    for (const result of [pdf, txt]) {
      assert.ok(typeof result.contract_type === 'string' && result.contract_type_confidence > 0);
      assert.equal(typeof result.model_version, 'string');
      const pages = readFileSync(join(pagesOut, `${result.file.split('/').pop()}.txt`), 'utf8').split('\f');
      assert.equal(pages.length, result.pages);
      for (const e of result.entities) assert.equal(pages[e.page - 1].slice(e.start_offset, e.end_offset), e.text.slice(0, e.end_offset - e.start_offset));
    }
    assert.match(bad.error, /^encrypted: /);
    assert.match(r.err.join('\n'), /1 of 3 files could not be read/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--ocr always reads a born-digital page by OCR, --ocr never refuses an image', { timeout: 120_000 }, async () => {
  const always = await extract([fixture('scan.pdf'), '--json', '--ocr', 'always']);
  assert.equal(always.code, 0, always.err.join('\n'));
  assert.deepEqual(JSON.parse(always.out[0]).page_sources.map((p: { source: string }) => p.source), ['ocr']);
  const never = await extract([fixture('scan-page.png'), '--json', '--ocr', 'never']);
  assert.equal(never.code, 1);
  assert.match(JSON.parse(never.out[0]).error, /^unsupported type: .*without OCR/);
});

test('a command line over 30 KB (onnxruntime dies of it) is re-run with the files on stdin; --files-from reads a list', { timeout: 180_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'extract-many-'));
  try {
    const text = join(dir, 'contract.txt');
    writeFileSync(text, 'This Agreement is governed by the laws of the State of Delaware.');
    // 300 paths of 110 bytes: a command line of 33 KB. The missing files fail fast, after the model loaded.
    const missing = Array.from({ length: 300 }, (_, i) => join(dir, `${'missing-contract-'.padEnd(100, 'x')}${String(i).padStart(3, '0')}.txt`));
    const cli = new URL('../../bin/streamscore.mjs', import.meta.url).pathname;
    const many = spawnSync(process.execPath, [cli, 'documents', 'extract', '--json', '--ocr', 'never', text, ...missing], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(many.signal, null, `ended by ${many.signal}: ${many.stderr.slice(-500)}`);
    assert.equal(many.status, 1, many.stderr.slice(-500));
    const lines = many.stdout.trim().split('\n').map((l) => JSON.parse(l));
    assert.equal(lines.length, 301);
    assert.equal(lines[0].file, text);
    assert.equal(lines[0].entities.find((e: { label: string }) => e.label === 'GOVERNING_LAW')?.normalized, 'US-DE');
    assert.deepEqual(lines.slice(1).map((l) => l.file), missing);
    assert.ok(lines.slice(1).every((l) => /^corrupt: cannot read/.test(l.error)), lines[1].error);
    assert.match(many.stderr, /300 of 301 files could not be read/);
    // The list file form, used directly.
    const list = join(dir, 'files.txt');
    writeFileSync(list, `${text}\r\n\n${missing[0]}\n`);
    const listed = spawnSync(process.execPath, [cli, 'documents', 'extract', '--json', '--files-from', list], { encoding: 'utf8' });
    assert.deepEqual(listed.stdout.trim().split('\n').map((l) => JSON.parse(l).file), [text, missing[0]]);
    const absent = spawnSync(process.execPath, [cli, 'documents', 'extract', '--files-from', join(dir, 'no-such-list')], { encoding: 'utf8' });
    assert.equal(absent.status, 2);
    assert.match(absent.stderr, /--files-from: ENOENT/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('usage errors exit 2', async () => {
  assert.equal((await extract([])).code, 2);
  assert.equal((await extract(['x.pdf', '--ocr', 'sometimes'])).code, 2);
  assert.equal((await extract(['x.pdf', '--frobnicate'])).code, 2);
});
