// Text clean-up after extraction/OCR: running headers, footers and page numbers go; hyphenated
// line ends and wrapped lines are joined; paragraph breaks, headings, list items and form lines stay.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cleanPageTexts, normalizeWhitespace } from './clean-text.ts';
import { readPdfPages } from './read-pdf.ts';
import type { PageText } from './types.ts';

const pages = (...texts: string[]): PageText[] => texts.map((text, i) => ({ page: i + 1, text, source: 'text-layer', ocrConfidence: null }));
const cleaned = (...texts: string[]) => cleanPageTexts(pages(...texts)).map((p) => p.text);

const WRAPPED = [
  'The Provider shall perform the services described in each statement of',
  'work. The Company shall pay the fees set out therein within thirty days',
  'of receipt of a correct invoice.',
].join('\n');

describe('cleanPageTexts', () => {
  it('drops a running header and a numbered footer found on every page, keeps page fields and sources', () => {
    const out = cleanPageTexts([
      { page: 1, text: 'ACME CONFIDENTIAL\nFirst page body text.\nPage 1 of 3', source: 'ocr', ocrConfidence: 0.9 },
      { page: 2, text: 'ACME CONFIDENTIAL\nSecond page body text.\nPage 2 of 3', source: 'ocr', ocrConfidence: 0.8 },
      { page: 3, text: 'ACME  Confidential\nThird page body text.\nPage 3 of 3', source: 'text-layer', ocrConfidence: null },
    ]);
    assert.deepEqual(out, [
      { page: 1, text: 'First page body text.', source: 'ocr', ocrConfidence: 0.9 },
      { page: 2, text: 'Second page body text.', source: 'ocr', ocrConfidence: 0.8 },
      { page: 3, text: 'Third page body text.', source: 'text-layer', ocrConfidence: null },
    ]);
  });

  it('drops page numbers at the top or bottom of a page, not numbers inside the text', () => {
    assert.deepEqual(cleaned('Body one.\n\n- 7 -', '12\nBody two.\n3\nmore', 'Body three.\n-iv-'), ['Body one.', 'Body two.\n3\nmore', 'Body three.']);
    assert.deepEqual(cleaned('CIVIL\nProcedure rules apply.', 'xii\nMore text here.'), ['CIVIL\nProcedure rules apply.', 'More text here.']);
  });

  it('a line that repeats on only some pages stays; numbered lines need three pages', () => {
    assert.deepEqual(cleaned('ARTICLE 1\nText a.', 'ARTICLE 2\nText b.', 'Other\nText c.', 'Other2\nText d.'), ['ARTICLE 1\nText a.', 'ARTICLE 2\nText b.', 'Other\nText c.', 'Other2\nText d.']);
  });

  it('joins the wrapped lines of a paragraph and keeps paragraph breaks', () => {
    const [text] = cleaned(`${WRAPPED}\n\n${WRAPPED}`);
    const paragraph = WRAPPED.replaceAll('\n', ' ');
    assert.equal(text, `${paragraph}\n\n${paragraph}`);
  });

  it('de-hyphenates a word broken at a line end, keeps the hyphen of a compound the document spells with one', () => {
    const [plain] = cleaned('The Company shall pay within thirty days of re-\nceipt of a correct invoice, at the latest on the date of pay-\nment.');
    assert.equal(plain, 'The Company shall pay within thirty days of receipt of a correct invoice, at the latest on the date of payment.');
    const [compound] = cleaned('This is a non-exclusive licence. The Company grants a non-\nexclusive, worldwide licence to use the software for its business.');
    assert.match(compound, /grants a non-exclusive, worldwide/);
    const [name] = cleaned('The products of the Coca-\nCola Company are distributed under this agreement in the territory.');
    assert.match(name, /Coca-Cola Company/);
  });

  it('keeps the line breaks of headings, list items, labels and short form lines', () => {
    const [text] = cleaned(
      [
        'MASTER SERVICES AGREEMENT',
        'This Agreement is made between the parties named below and takes effect on the date',
        'written below:',
        '(a) the first obligation of the Provider under this Agreement, which is long enough',
        '(b) the second one.',
        'By:',
        'Name: Jane Doe',
        'Title: CEO',
      ].join('\n'),
    );
    assert.equal(
      text,
      [
        'MASTER SERVICES AGREEMENT',
        'This Agreement is made between the parties named below and takes effect on the date written below:',
        '(a) the first obligation of the Provider under this Agreement, which is long enough',
        '(b) the second one.',
        'By:',
        'Name: Jane Doe',
        'Title: CEO',
      ].join('\n'),
    );
  });

  it('is deterministic and keeps empty pages', () => {
    const input = pages(`HEADER\n${WRAPPED}\n1`, '', `HEADER\n${WRAPPED}\n2`);
    assert.deepEqual(cleanPageTexts(input), cleanPageTexts(structuredClone(input)));
    assert.equal(cleanPageTexts(input)[1].text, '');
  });

  it('the fixture contract: header and footers gone, hyphenation and wrapped lines joined', async () => {
    const { pages: read } = await readPdfPages(readFileSync(join(import.meta.dirname, 'fixtures', 'contract.pdf')));
    const [first, second] = cleanPageTexts(read as PageText[]).map((p) => p.text);
    assert.ok(!first.includes('CONFIDENTIAL') && !first.includes('Page 1'), first);
    assert.match(first, /^MASTER SERVICES AGREEMENT\n\nThis Master Services Agreement .* a Delaware corporation \(the "Company"\), and Blue Harbor Logistics LLC \(the "Provider"\)\.\n\n1\. Services\./);
    assert.match(first, /within thirty \(30\) days of receipt of a correct invoice\.$/);
    assert.match(second, /^2\. Term\. This Agreement commences on the Effective Date and continues for a period of three/);
  });
});

describe('normalizeWhitespace', () => {
  it('typographic quotes and en dashes become ASCII, em dashes stay', () => {
    assert.equal(normalizeWhitespace('the “Company” and the ‘Provider’s’ fees, 2019–2020 — net'), 'the "Company" and the \'Provider\'s\' fees, 2019-2020 — net');
  });

  it('line endings, odd spaces, soft hyphens, zero-width characters and ligatures', () => {
    assert.equal(normalizeWhitespace('\ufeffa\r\nb\u00a0\u00a0c\fd\u00adf\u200be ﬁnal\n\n\n\nx  '), 'a\nb c\ndf\u0065 final\n\nx'.replace('df\u0065', 'dfe'));
  });
});
