// `documents extract` on files, no stack: one JSON object per file with the ExtractedEntities
// fields, a bad file reported and the rest going on (exit 1 at the end), the OCR switch, and the
// page texts written where asked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('usage errors exit 2', async () => {
  assert.equal((await extract([])).code, 2);
  assert.equal((await extract(['x.pdf', '--ocr', 'sometimes'])).code, 2);
  assert.equal((await extract(['x.pdf', '--frobnicate'])).code, 2);
});
