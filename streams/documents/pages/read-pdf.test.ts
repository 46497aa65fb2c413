// readPdfPages on generated PDFs (fixtures/make-fixtures.ts): the text layer of each page when it
// is real, null (needs OCR) when it is not, decided per page; every bad PDF the issue names is
// refused with its reason, quickly, and nothing hangs.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DocumentRejectedError } from './errors.ts';
import { readPdfPages } from './read-pdf.ts';

const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name));

async function rejection(p: Promise<unknown>): Promise<DocumentRejectedError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DocumentRejectedError, `expected DocumentRejectedError, got ${(err as Error).name}: ${(err as Error).message}`);
    return err;
  }
  assert.fail('the PDF was accepted');
}

describe('PDFs that are read', () => {
  it('a text PDF: every page from its text layer, in order, with line and paragraph breaks', async () => {
    const { pageCount, pages } = await readPdfPages(fixture('contract.pdf'));
    assert.equal(pageCount, 3);
    assert.deepEqual(pages.map((p) => p?.source), ['text-layer', 'text-layer', 'text-layer']);
    assert.deepEqual(pages.map((p) => p?.page), [1, 2, 3]);
    assert.equal(pages[0]?.ocrConfidence, null);
    assert.match(pages[0]!.text, /^NORTHWIND \/ BLUE HARBOR - CONFIDENTIAL\n\nMASTER SERVICES AGREEMENT\n\nThis Master Services Agreement/);
    assert.match(pages[0]!.text, /a Delaware corpo-\nration/);
    assert.match(pages[2]!.text, /Page 3 of 3$/);
  });

  it('a mixed PDF is decided page by page', async () => {
    const { pages, decisions } = await readPdfPages(fixture('mixed.pdf'));
    assert.equal(pages.length, 6);
    assert.equal(pages[0]?.source, 'text-layer', `text page: ${decisions[0]}`);
    assert.equal(pages[1], null, `scan without text: ${decisions[1]}`);
    assert.equal(pages[2], null, `symbols from a broken font encoding: ${decisions[2]}`);
    assert.equal(pages[3], null, `invisible OCR layer that is not English: ${decisions[3]}`);
    assert.equal(pages[4]?.source, 'text-layer', `invisible OCR layer that is English: ${decisions[4]}`);
    assert.match(pages[4]!.text, /governed by the laws/);
    assert.deepEqual(pages[5], { page: 6, text: '', source: 'text-layer', ocrConfidence: null }, `blank page: ${decisions[5]}`);
  });

  it('--ocr always makes every page an OCR page; --ocr never none', async () => {
    const always = await readPdfPages(fixture('mixed.pdf'), {}, { ocr: 'always' });
    assert.deepEqual(always.pages, [null, null, null, null, null, null]);
    const never = await readPdfPages(fixture('mixed.pdf'), {}, { ocr: 'never' });
    assert.ok(never.pages.every((p) => p?.source === 'text-layer'));
    assert.equal(never.pages[1]?.text, '');
  });

  it('junk bytes before %PDF- (a scanner or mail gateway header)', async () => {
    const { pages } = await readPdfPages(fixture('contract-junk-prefix.pdf'));
    assert.match(pages[1]!.text, /^NORTHWIND[^]*2\. Term\./);
  });

  it('encrypted with an owner password only (opens without one): read', async () => {
    const { pages } = await readPdfPages(fixture('encrypted-owner-only.pdf'));
    assert.match(pages[0]!.text, /Northwind Analytics, Inc\./);
  });
});

describe('PDFs that are refused, with the reason', () => {
  it('encrypted with a user password', async () => {
    const err = await rejection(readPdfPages(fixture('encrypted-user-password.pdf')));
    assert.equal(err.rejection, 'encrypted');
    assert.equal(err.message, 'encrypted: the PDF needs a password to open; send it without the password protection');
  });

  it('corrupt: a PDF header and noise', async () => {
    const err = await rejection(readPdfPages(fixture('garbage.pdf')));
    assert.equal(err.rejection, 'corrupt');
    assert.match(err.message, /^corrupt: the PDF could not be opened: /);
  });

  it('corrupt: truncated at 60%', async () => {
    assert.equal((await rejection(readPdfPages(fixture('contract-truncated.pdf')))).rejection, 'corrupt');
  });

  it('no pages', async () => {
    assert.equal((await rejection(readPdfPages(fixture('no-pages.pdf')))).message, 'no pages: the PDF has no pages');
  });

  it('2,000 pages: refused from the page count, without parsing the pages', async () => {
    const started = performance.now();
    const err = await rejection(readPdfPages(fixture('many-pages-2000.pdf'), { maxPages: 500 }));
    assert.equal(err.message, 'too many pages: the PDF has 2000 pages, the limit is 500');
    assert.ok(performance.now() - started < 2000, `took ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('a page too large to render at the OCR resolution', async () => {
    const err = await rejection(readPdfPages(fixture('oversized-page.pdf')));
    assert.equal(err.rejection, 'page too large');
    assert.match(err.message, /^page too large: page 1 is 60001 x 60001 pixels at 300 dpi \(3600\.1 Mpx\), more than the 36\.0 Mpx/);
  });

  it('a large page with a real text layer is read (it is never rendered) unless --ocr always', async () => {
    const { pages } = await readPdfPages(fixture('contract.pdf'), { maxPagePixels: 1_000_000 });
    assert.equal(pages[0]?.source, 'text-layer');
    assert.equal((await rejection(readPdfPages(fixture('contract.pdf'), { maxPagePixels: 1_000_000 }, { ocr: 'always' }))).rejection, 'page too large');
  });

  it('reading that takes longer than readTimeoutMs stops with "timed out"', async () => {
    const err = await rejection(readPdfPages(fixture('many-pages-2000.pdf'), { maxPages: 5000, readTimeoutMs: 100 }));
    assert.equal(err.rejection, 'timed out');
    assert.match(err.message, /^timed out: .*longer than 100 ms/);
  });

  it('empty, too large, not a PDF', async () => {
    assert.equal((await rejection(readPdfPages(new Uint8Array(0)))).rejection, 'empty');
    assert.equal((await rejection(readPdfPages(fixture('contract.pdf'), { maxBytes: 1000 }))).message, `too large: the PDF has ${fixture('contract.pdf').length} bytes, the limit is 1000`);
    assert.equal((await rejection(readPdfPages(Buffer.from('hello, I am not a PDF at all')))).rejection, 'corrupt');
  });

  it('a limit that is not a positive number is a configuration error, not a rejection', async () => {
    await assert.rejects(readPdfPages(fixture('contract.pdf'), { maxPages: 0 }), /document limit maxPages must be a positive number, got 0/);
  });
});
