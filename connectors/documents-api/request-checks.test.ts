// Pure checks of the upload API: the declared type against the sniffed content, file names from
// headers, multipart edge cases through a real HTTP server, and search parameters.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HttpError } from '../../streams/runtime/http/errors.ts';
import { checkDocument } from './content-check.ts';
import { flagsToParams, parseSearchParams } from './search-params.ts';
import { cleanFilename, dispositionFilename, readUpload } from './upload-body.ts';

const refusal = (fn: () => unknown): { status: number; message: string } => {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${err}`);
    return { status: err.status, message: err.message };
  }
  assert.fail('accepted');
};

describe('checkDocument: the pages step sniffs, the declared type must agree', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d', 'hex');
  it('accepts a matching or generic declared type and answers with the sniffed MIME type', () => {
    assert.deepEqual(checkDocument(Buffer.from('%PDF-1.7'), 'application/pdf'), { kind: 'pdf', mime: 'application/pdf' });
    assert.deepEqual(checkDocument(Buffer.concat([Buffer.alloc(100, 0x20), Buffer.from('%PDF-1.4')]), 'application/octet-stream'), { kind: 'pdf', mime: 'application/pdf' });
    assert.deepEqual(checkDocument(png, undefined), { kind: 'png', mime: 'image/png' });
    assert.equal(checkDocument(Buffer.from([0xff, 0xd8, 0xff, 0xe0]), 'image/jpeg').kind, 'jpeg');
    assert.equal(checkDocument(Buffer.from('II*\u0000abc', 'latin1'), 'image/tiff').kind, 'tiff');
    assert.equal(checkDocument(Buffer.from('This Agreement — “Société” 2024\r\n\tClause 1.'), 'text/plain; charset=utf-8').kind, 'text');
  });

  it('refuses empty (400), unsupported (415) and mismatching (415) documents with the reason', () => {
    assert.deepEqual(refusal(() => checkDocument(Buffer.alloc(0), 'application/pdf')), { status: 400, message: 'empty: the document has 0 bytes' });
    assert.equal(refusal(() => checkDocument(Buffer.from('  \n '), 'text/plain')).status, 400);
    assert.deepEqual(refusal(() => checkDocument(Buffer.from('PK\u0003\u0004 docx'), '')), { status: 415, message: 'unsupported type: a ZIP archive (DOCX, XLSX, ODT, ...); send a PDF, a PNG/JPEG/TIFF page image or UTF-8 text' });
    const declared = refusal(() => checkDocument(Buffer.from('%PDF-1.7'), 'application/vnd.ms-excel'));
    assert.equal(declared.status, 415);
    assert.match(declared.message, /^unsupported type: declared "application\/vnd\.ms-excel"/);
    const garbage = refusal(() => checkDocument(Buffer.from([0, 1, 2, 0xfe]), ''));
    assert.equal(garbage.status, 415);
    assert.match(garbage.message, /^unsupported type: .*first bytes 00 01 02 fe\)$/);
    assert.equal(refusal(() => checkDocument(Buffer.from('text\u0000with NUL'), 'text/plain')).status, 415);
    const mismatch = refusal(() => checkDocument(Buffer.from('just text'), 'application/pdf'));
    assert.deepEqual(mismatch, { status: 415, message: 'declared type mismatch: declared application/pdf but the content is text/plain (first bytes 6a 75 73 74 20 74 65 78)' });
    assert.match(refusal(() => checkDocument(png, 'application/pdf')).message, /^declared type mismatch: declared application\/pdf but the content is image\/png/);
  });
});

describe('file names', () => {
  it('keeps only a display name', () => {
    assert.equal(cleanFilename('../../etc/passwd'), 'passwd');
    assert.equal(cleanFilename('C:\\contracts\\Lease 2024.pdf'), 'Lease 2024.pdf');
    assert.equal(cleanFilename('a\u0000b\u001f.pdf'), 'ab.pdf');
    assert.equal(cleanFilename('..'), 'unnamed');
    assert.equal(cleanFilename(undefined), 'unnamed');
    assert.equal(cleanFilename('x'.repeat(300)).length, 255);
  });
  it('reads Content-Disposition, preferring filename* (RFC 5987)', () => {
    assert.equal(dispositionFilename('attachment; filename="Master \\"Services\\" Agreement.pdf"'), 'Master "Services" Agreement.pdf');
    assert.equal(dispositionFilename('attachment; filename=plain.pdf'), 'plain.pdf');
    assert.equal(dispositionFilename(`attachment; filename="fallback.pdf"; filename*=UTF-8''Vertr%C3%A4ge.pdf`), 'Verträge.pdf');
    assert.equal(dispositionFilename('inline'), undefined);
  });
});

describe('readUpload: multipart', () => {
  /** Posts `body` with `contentType` to a server that answers with readUpload's result or refusal. */
  async function upload(body: string | FormData, contentType?: string): Promise<{ status: number; body: Record<string, unknown> }> {
    const server = createServer((req, res) => {
      readUpload(req, new URL(req.url!, 'http://x'), 1000).then(
        (f) => res.end(JSON.stringify({ filename: f.filename, type: f.declaredType, text: f.bytes.toString() })),
        (err: HttpError) => {
          res.statusCode = err.status;
          res.end(JSON.stringify({ error: err.message }));
          req.resume();
        },
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const r = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, { method: 'POST', body, headers: contentType ? { 'content-type': contentType } : {} });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    } finally {
      server.closeAllConnections();
      server.close();
    }
  }

  it('takes the one file part with its own name and type, ignoring other fields', async () => {
    const form = new FormData();
    form.append('comment', 'for review');
    form.append('file', new Blob(['%PDF-1.7 body'], { type: 'application/pdf' }), 'dir/contract.pdf');
    assert.deepEqual(await upload(form), { status: 200, body: { filename: 'contract.pdf', type: 'application/pdf', text: '%PDF-1.7 body' } });
  });

  it('refuses two files, no file, a file over the limit and a broken body', async () => {
    const two = new FormData();
    two.append('a', new Blob(['1']), 'a.txt');
    two.append('b', new Blob(['2']), 'b.txt');
    assert.deepEqual(await upload(two), { status: 400, body: { error: 'multipart body has more than one file; send one document per request' } });
    const none = new FormData();
    none.append('note', 'x');
    assert.equal((await upload(none)).status, 400);
    const big = new FormData();
    big.append('file', new Blob(['x'.repeat(1001)]), 'big.txt');
    assert.deepEqual(await upload(big), { status: 413, body: { error: 'too large: the document is over the 1000 byte limit' } });
    assert.match(String((await upload('--b\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\nabc', 'multipart/form-data; boundary=b')).body.error), /^bad multipart body: Unexpected end of form/);
    assert.match(String((await upload('x', 'multipart/form-data')).body.error), /^bad multipart request: Multipart: Boundary not found/);
  });
});

describe('search parameters', () => {
  it('parse into a query, with the checks a client needs to hear about', () => {
    assert.deepEqual(parseSearchParams(new URLSearchParams('party=Acme&law=us-ny&from=2020-01-01&to=2020-12-31&date_label=effective_date&amount_min=10&currency=usd&limit=5&offset=10&status=done')), {
      party: 'Acme', law: 'us-ny', from: '2020-01-01', to: '2020-12-31', dateLabel: 'EFFECTIVE_DATE', amountMin: 10, currency: 'USD', limit: 5, offset: 10, status: 'done',
    });
    const bad: [string, RegExp][] = [
      ['from=2021-02-29', /must be a date YYYY-MM-DD/],
      ['from=2021-03-01&to=2021-02-01', /from 2021-03-01 is after to 2021-02-01/],
      ['amount_min=ten', /amount_min="ten" must be a number/],
      ['amount_min=5&amount_max=1', /amount_min 5 is above amount_max 1/],
      ['currency=dollars', /ISO 4217/],
      ['limit=1000', /limit="1000" must be a whole number from 1 to 100/],
      ['status=lost', /must be one of queued, done, rejected/],
      ['party=', /party is empty/],
      ['sort=date', /unknown search parameter "sort"/],
    ];
    for (const [query, message] of bad) assert.throws(() => parseSearchParams(new URLSearchParams(query)), message, query);
  });
  it('CLI flags map to the same names', () => {
    assert.deepEqual(flagsToParams(['--party', 'Acme', '--amount-min=5', '--date-label', 'EFFECTIVE_DATE']), [['party', 'Acme'], ['amount_min', '5'], ['date_label', 'EFFECTIVE_DATE']]);
    assert.throws(() => flagsToParams(['--party']), /--party needs a value/);
    assert.throws(() => flagsToParams(['acme']), /unexpected argument "acme"/);
  });
});
