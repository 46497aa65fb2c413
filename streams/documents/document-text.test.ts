import { test } from 'node:test';
import assert from 'node:assert/strict';
import { joinPages, PAGE_SEPARATOR, toPageSpan } from './document-text.ts';

const pages = ['MASTER SERVICES AGREEMENT between Acme Inc.', 'and Beta LLC, dated June 1, 2020.', 'Governed by the laws of New York.'];

test('joined offsets map back to the page and the offsets inside that page', () => {
  const joined = joinPages(pages);
  assert.equal(joined.text, pages.join(PAGE_SEPARATOR));
  for (const [word, page] of [['Acme Inc.', 1], ['Beta LLC', 2], ['June 1, 2020', 2], ['New York', 3]] as const) {
    const start = joined.text.indexOf(word);
    const span = toPageSpan(joined, start, start + word.length);
    assert.equal(span.page, page, word);
    assert.equal(pages[page - 1].slice(span.start, span.end), word);
  }
});

test('a span running into the next page is clipped at the end of its first page', () => {
  const joined = joinPages(pages);
  const start = joined.text.indexOf('Acme');
  const end = joined.text.indexOf('LLC') + 3;
  const span = toPageSpan(joined, start, end);
  assert.deepEqual(span, { page: 1, start: pages[0].indexOf('Acme'), end: pages[0].length });
});

test('empty pages keep their numbers; out-of-range spans are refused', () => {
  const joined = joinPages(['', 'second page text', '']);
  const start = joined.text.indexOf('second');
  assert.deepEqual(toPageSpan(joined, start, start + 6), { page: 2, start: 0, end: 6 });
  assert.throws(() => toPageSpan(joined, 0, joined.text.length + 1), /outside the document text/);
});
