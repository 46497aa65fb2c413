// The page-text memo (pure): least recently used out by bytes, keys by document sha256 + page +
// OCR settings, nulls never kept, the size from the environment.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { PageText } from './pages/types.ts';
import { DEFAULT_PAGE_MEMO_BYTES, OCR_SETTINGS_FINGERPRINT, PAGE_MEMO_BYTES_ENV, PageTextMemo, ocrPageKey, pageMemoBytesFromEnv } from './page-memo.ts';

const SHA = 'ab'.repeat(32);
const page = (n: number, chars = 1_000): PageText => ({ page: n, text: 'x'.repeat(chars), source: 'ocr', ocrConfidence: 0.9 });

describe('page-text memo', () => {
  it('a page read once is handed back without reading it again; hits and misses are counted', async () => {
    const memo = new PageTextMemo(1_000_000);
    let reads = 0;
    const read = async () => (reads++, page(1));
    const first = await memo.through(ocrPageKey(SHA, 1), read);
    const second = await memo.through(ocrPageKey(SHA, 1), read);
    assert.equal(reads, 1);
    assert.deepEqual(second, first);
    assert.ok(Object.isFrozen(second), 'callers share the entry, so it cannot be changed under the next one');
    await memo.through(ocrPageKey(SHA, 2), read);
    assert.equal(reads, 2, 'another page of the same document is another key');
    const s = memo.stats();
    assert.deepEqual([s.hits, s.misses, s.entries], [1, 2, 2]);
  });

  it('a null (the record was dead-lettered) is not kept: the next reader reads the page itself', async () => {
    const memo = new PageTextMemo(1_000_000);
    assert.equal(await memo.through(ocrPageKey(SHA, 1), async () => null), null);
    assert.equal((await memo.through(ocrPageKey(SHA, 1), async () => page(1)))?.page, 1);
    assert.equal(memo.stats().entries, 1);
  });

  it('holds at most maxBytes, evicting the least recently used first (a hit refreshes an entry)', () => {
    const one = 2 * (ocrPageKey(SHA, 1).length + 1_000 + 3) + 96; // entryBytes of a 1,000-character OCR page
    const memo = new PageTextMemo(3 * one);
    for (const n of [1, 2, 3]) memo.set(ocrPageKey(SHA, n), page(n));
    assert.equal(memo.stats().bytes, 3 * one);
    memo.get(ocrPageKey(SHA, 1)); // 2 is now the least recently used
    memo.set(ocrPageKey(SHA, 4), page(4));
    assert.equal(memo.get(ocrPageKey(SHA, 2)), undefined);
    assert.deepEqual([1, 3, 4].map((n) => memo.get(ocrPageKey(SHA, n))?.page), [1, 3, 4]);
    const s = memo.stats();
    assert.deepEqual([s.bytes, s.entries, s.evictions], [3 * one, 3, 1]);
    assert.ok(s.bytes <= s.maxBytes);
  });

  it('a page larger than the whole memo is not kept and evicts nothing; a replaced entry is counted once', () => {
    const memo = new PageTextMemo(10_000);
    memo.set(ocrPageKey(SHA, 1), page(1, 100));
    memo.set(ocrPageKey(SHA, 2), page(2, 20_000));
    assert.deepEqual([memo.stats().entries, memo.get(ocrPageKey(SHA, 1))?.page], [1, 1]);
    const before = memo.stats().bytes;
    memo.set(ocrPageKey(SHA, 1), page(1, 100));
    assert.equal(memo.stats().bytes, before);
  });

  it('a memo of 0 bytes keeps nothing', async () => {
    const memo = new PageTextMemo(0);
    let reads = 0;
    for (let i = 0; i < 2; i++) await memo.through(ocrPageKey(SHA, 1), async () => (reads++, page(1)));
    assert.equal(reads, 2);
  });

  it('keys name the document, the page and the OCR settings; a key that is not a sha256 is refused', () => {
    assert.equal(ocrPageKey(SHA, 3), `${SHA}:3:${OCR_SETTINGS_FINGERPRINT}`);
    assert.notEqual(ocrPageKey(SHA, 1), ocrPageKey(SHA, 'image'));
    assert.notEqual(ocrPageKey(SHA, 1), ocrPageKey(SHA, 1, 'other-settings'));
    assert.match(OCR_SETTINGS_FINGERPRINT, /^[0-9a-f]{16}$/);
    assert.throws(() => ocrPageKey('AB'.repeat(32), 1), /lowercase hex sha256/);
    assert.throws(() => ocrPageKey('doc.pdf', 1), /sha256/);
  });

  it('the size comes from the environment; bad values are refused by name', () => {
    assert.equal(pageMemoBytesFromEnv({}), DEFAULT_PAGE_MEMO_BYTES);
    assert.equal(pageMemoBytesFromEnv({ [PAGE_MEMO_BYTES_ENV]: ' 1048576 ' }), 1_048_576);
    assert.equal(pageMemoBytesFromEnv({ [PAGE_MEMO_BYTES_ENV]: '0' }), 0);
    for (const bad of ['64MiB', '-1', '1.5', '1e9']) assert.throws(() => pageMemoBytesFromEnv({ [PAGE_MEMO_BYTES_ENV]: bad }), new RegExp(PAGE_MEMO_BYTES_ENV));
    assert.throws(() => new PageTextMemo(-1), /bytes >= 0/);
  });
});

describe('page-text memo, reads in flight', () => {
  const deferred = () => {
    let resolve!: (v: PageText | null) => void;
    let reject!: (e: Error) => void;
    const promise = new Promise<PageText | null>((res, rej) => ((resolve = res), (reject = rej)));
    return { promise, resolve, reject };
  };

  it('a second caller of a page being read waits for that read instead of reading it again', async () => {
    const memo = new PageTextMemo(1_000_000);
    const first = deferred();
    let reads = 0;
    const a = memo.through(ocrPageKey(SHA, 1), () => (reads++, first.promise));
    const b = memo.through(ocrPageKey(SHA, 1), async () => (reads++, page(1, 5)));
    first.resolve(page(1));
    assert.deepEqual([(await a)?.text.length, (await b)?.text.length], [1_000, 1_000]);
    assert.equal(reads, 1);
    assert.equal(memo.stats().waits, 1);
  });

  it('when the read it waited for gives null or fails, the waiter reads the page itself (its record is its own)', async () => {
    const memo = new PageTextMemo(1_000_000);
    const outcomes = [(d: ReturnType<typeof deferred>) => d.resolve(null), (d: ReturnType<typeof deferred>) => d.reject(new Error('pool closed'))];
    for (const [i, fail] of outcomes.entries()) {
      const key = ocrPageKey(SHA, i + 1);
      const owner = deferred();
      let ownReads = 0;
      const a = memo.through(key, () => owner.promise);
      const b = memo.through(key, async () => (ownReads++, page(2)));
      fail(owner);
      await a.catch(() => undefined);
      assert.equal((await b)?.page, 2);
      assert.equal(ownReads, 1);
    }
    await assert.rejects(memo.through(ocrPageKey(SHA, 9), async () => { throw new Error('tesseract out of memory'); }), /out of memory/, 'the owner of a failed read gets its error');
  });
});

describe('page-text memo, metrics', () => {
  it('its counts and size are series of the registry, read at scrape time', async () => {
    const { Registry } = await import('prom-client');
    const { registerPageMemoMetrics } = await import('./page-memo.ts');
    const memo = new PageTextMemo(1_000);
    const registry = new Registry();
    registerPageMemoMetrics(memo, registry, 'documents-extractor');
    const key = ocrPageKey('a'.repeat(64), 1);
    memo.get(key);
    memo.set(key, { page: 1, text: 'x'.repeat(100), source: 'ocr', ocrConfidence: 0.9 });
    memo.get(key);
    memo.get(key);
    const text = await registry.metrics();
    const value = (name: string) => Number(new RegExp(`^${name}\\{processor="documents-extractor"\\} (\\S+)$`, 'm').exec(text)?.[1]);
    assert.equal(value('streamscore_documents_page_memo_hits_total'), 2);
    assert.equal(value('streamscore_documents_page_memo_misses_total'), 1);
    assert.equal(value('streamscore_documents_page_memo_entries'), 1);
    assert.equal(value('streamscore_documents_page_memo_bytes'), memo.stats().bytes);
    assert.ok(memo.stats().bytes > 100);
    assert.equal(value('streamscore_documents_page_memo_max_bytes'), 1_000);
    assert.equal(value('streamscore_documents_page_memo_evictions_total'), 0);
    memo.get(key);
    assert.equal(Number(/^streamscore_documents_page_memo_hits_total\{processor="documents-extractor"\} (\S+)$/m.exec(await registry.metrics())?.[1]), 3);
  });
});
