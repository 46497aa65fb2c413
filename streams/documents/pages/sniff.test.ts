// Content sniffing: the kind comes from the bytes, and anything that is not a PDF, a page image or
// UTF-8 text is refused with what it looks like.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { DocumentRejectedError } from './errors.ts';
import { decodeTextDocument, sniffDocument } from './sniff.ts';
import { readTextPages } from './text-file.ts';

const image = () => sharp({ create: { width: 8, height: 8, channels: 3, background: '#ffffff' } });

function rejected(bytes: Uint8Array, maxBytes?: number): string {
  try {
    sniffDocument(bytes, maxBytes === undefined ? undefined : { maxBytes });
  } catch (err) {
    assert.ok(err instanceof DocumentRejectedError, `expected DocumentRejectedError, got ${(err as Error).name}`);
    return err.message;
  }
  assert.fail('accepted');
}

describe('documents that are recognised', () => {
  it('PDF, also after junk bytes before the header', () => {
    assert.deepEqual(sniffDocument(Buffer.from('%PDF-1.7\n...')), { kind: 'pdf', mime: 'application/pdf' });
    assert.equal(sniffDocument(Buffer.concat([Buffer.alloc(600, 0x20), Buffer.from('%PDF-1.4\n')])).kind, 'pdf');
  });

  it('PNG, JPEG and TIFF (both byte orders)', async () => {
    assert.equal(sniffDocument(await image().png().toBuffer()).kind, 'png');
    assert.equal(sniffDocument(await image().jpeg().toBuffer()).kind, 'jpeg');
    assert.equal(sniffDocument(await image().tiff().toBuffer()).mime, 'image/tiff');
    assert.equal(sniffDocument(Buffer.from([0x4d, 0x4d, 0x00, 0x2a, 0, 0, 0, 8])).kind, 'tiff');
  });

  it('UTF-8 text, with or without a byte order mark', () => {
    assert.deepEqual(sniffDocument(Buffer.from('This Agreement is made on 1 March 2021 — in Zürich.\n')), { kind: 'text', mime: 'text/plain; charset=utf-8' });
    assert.equal(decodeTextDocument(Buffer.from('\ufeffAgreement\r\n\tTerm')), 'Agreement\r\n\tTerm');
  });
});

describe('documents that are refused, with the reason', () => {
  it('empty, or only whitespace', () => {
    assert.equal(rejected(new Uint8Array(0)), 'empty: the document has 0 bytes');
    assert.equal(rejected(Buffer.from(' \n\t \n')), 'empty: the text document holds only whitespace');
  });

  it('larger than maxBytes', () => {
    assert.equal(rejected(Buffer.from('%PDF-1.7 and more'), 10), 'too large: the document has 17 bytes, the limit is 10');
  });

  it('a PDF header beyond the first 1024 bytes is not a PDF', () => {
    assert.match(rejected(Buffer.concat([Buffer.alloc(1030, 0), Buffer.from('%PDF-1.4')])), /^unsupported type: binary data: control character U\+0000 at offset 0/);
  });

  it('invalid UTF-8', () => {
    assert.equal(rejected(Buffer.from([0x41, 0x67, 0xc3, 0x28, 0x20, 0x74])), 'unsupported type: neither a PDF, a PNG/JPEG/TIFF image nor valid UTF-8 text (first bytes 41 67 c3 28 20 74)');
  });

  it('binary data that happens to be valid UTF-8', () => {
    assert.match(rejected(Buffer.from('abc\u0001\u0002def')), /^unsupported type: binary data: control character U\+0001 at offset 3/);
  });

  it('file types people upload by mistake are named', async () => {
    assert.match(rejected(Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x14, 0, 0, 0])), /^unsupported type: a ZIP archive \(DOCX, XLSX, ODT, \.\.\.\); send a PDF/);
    assert.match(rejected(await image().gif().toBuffer()), /^unsupported type: a GIF image/);
    assert.match(rejected(await image().webp().toBuffer()), /^unsupported type: a WebP image/);
    assert.match(rejected(Buffer.from('\ufeffhi', 'utf16le')), /^unsupported type: UTF-16 text/);
  });
});

describe('readTextPages', () => {
  it('one page per form feed, a trailing one ignored; one page without', () => {
    assert.deepEqual(readTextPages(Buffer.from('first\fsecond\f')), [
      { page: 1, text: 'first', source: 'text-file', ocrConfidence: null },
      { page: 2, text: 'second', source: 'text-file', ocrConfidence: null },
    ]);
    assert.equal(readTextPages(Buffer.from('only page')).length, 1);
  });
});

describe('readTextPages limits', () => {
  it('refuses more form-feed pages than a PDF may have', () => {
    assert.throws(() => readTextPages(Buffer.from('Agreement\f'.repeat(4)), { maxPages: 3 }), /too many pages: the text has 4 pages \(form feeds\), the limit is 3/);
    assert.equal(readTextPages(Buffer.from('Agreement\f'.repeat(3)), { maxPages: 3 }).length, 3);
  });
});
