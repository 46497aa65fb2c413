// A byte-bounded LRU memo of OCR'd page texts, so a page is recognised once however many times its
// document is read: above all by a shadow challenger, which handles the same uploads right after the
// champion (streams/runtime/rollout/rollout-chunk.ts). The challenger of the documents processor is
// an NER model; the OCR (3-6 s per scanned page) is the same in both arms, so without the memo a
// shadow doubles the processor's most expensive step for nothing. A document re-delivered after a
// crash also skips its finished pages.
//
// The key is (sha256 of the document's bytes, page number, OCR settings), not a hash of the page
// image tesseract reads: that image exists only after the worker has rendered and cleaned the page
// (~0.3 s and ~9 Mpx per page), so keying by it would spend much of what the memo saves, while the
// document's sha256 is already computed and checked for every upload (topology.ts documentBytes).
// The rendered image is a function of those bytes, the page number and the settings below, and so
// is its OCR (checked: the 3 pages of fixtures/scanned-sponsorship-3p.pdf read in two orders and on a
// fresh tesseract worker gave identical texts), so equal keys mean equal texts. The settings are in
// the key so a page read one way never reaches a caller that reads another way.
import { createHash } from 'node:crypto';
import { Counter, Gauge, type Registry } from 'prom-client';
import { DEFAULT_CLEANUP, TESSERACT_MODEL } from './pages/ocr.ts';
import { DEFAULT_DOCUMENT_LIMITS } from './pages/limits.ts';
import type { PageText } from './pages/types.ts';

/** 64 MiB of page text is ~10,000 OCR'd pages (~3,000 characters each, two bytes a character): hours of uploads. */
export const DEFAULT_PAGE_MEMO_BYTES = 64 * 1024 * 1024;
export const PAGE_MEMO_BYTES_ENV = 'STREAMSCORE_DOCUMENTS_PAGE_MEMO_BYTES';

/** What the OCR of a page depends on besides the document and the page number (the processor's ocr-page and ocr-image jobs). */
export const OCR_SETTINGS_FINGERPRINT = createHash('sha256')
  .update(JSON.stringify({ model: TESSERACT_MODEL, cleanup: DEFAULT_CLEANUP, dpi: DEFAULT_DOCUMENT_LIMITS.ocrDpi, maxPagePixels: DEFAULT_DOCUMENT_LIMITS.maxPagePixels }))
  .digest('hex')
  .slice(0, 16);

/** The memo key of one page of a PDF (`page` from 1) or of an uploaded image (`page` 'image'). */
export function ocrPageKey(documentSha256: string, page: number | 'image', settings = OCR_SETTINGS_FINGERPRINT): string {
  if (!/^[0-9a-f]{64}$/.test(documentSha256)) throw new Error(`page memo: a document is keyed by its lowercase hex sha256, got ${JSON.stringify(documentSha256.slice(0, 80))}`);
  return `${documentSha256}:${page}:${settings}`;
}

/** Bytes an entry holds: the strings as UTF-16 plus a fixed allowance for the object and the map slot. */
const ENTRY_OVERHEAD_BYTES = 96;
const entryBytes = (key: string, page: PageText) => 2 * (key.length + page.text.length + page.source.length) + ENTRY_OVERHEAD_BYTES;

export interface PageMemoStats {
  hits: number;
  misses: number;
  /** Bytes held now (entryBytes), never above maxBytes. */
  bytes: number;
  entries: number;
  evictions: number;
  /** Callers that waited for another caller's read of the same page instead of reading it (counted as misses too). */
  waits: number;
  maxBytes: number;
}

/** Least recently used first out (a Map keeps insertion order: a hit is re-inserted at the end). */
export class PageTextMemo {
  readonly maxBytes: number;
  private readonly entries = new Map<string, { page: PageText; bytes: number }>();
  /** Reads running now, by key: a second caller waits for the first instead of starting the same OCR. */
  private readonly inflight = new Map<string, Promise<PageText | null>>();
  private held = 0;
  private counts = { hits: 0, misses: 0, evictions: 0, waits: 0 };

  constructor(maxBytes = DEFAULT_PAGE_MEMO_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes < 0) throw new Error(`page memo size must be a whole number of bytes >= 0, got ${maxBytes}`);
    this.maxBytes = maxBytes;
  }

  get(key: string): PageText | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.counts.misses++;
      return undefined;
    }
    this.counts.hits++;
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.page;
  }

  /** Stores a page (a frozen copy: callers share it); one larger than the whole memo is not kept. */
  set(key: string, page: PageText): void {
    const bytes = entryBytes(key, page);
    const old = this.entries.get(key);
    if (old) {
      this.entries.delete(key);
      this.held -= old.bytes;
    }
    if (bytes > this.maxBytes) return;
    this.entries.set(key, { page: Object.freeze({ ...page }), bytes });
    this.held += bytes;
    for (const [k, e] of this.entries) {
      if (this.held <= this.maxBytes) break;
      this.entries.delete(k);
      this.held -= e.bytes;
      this.counts.evictions++;
    }
  }

  /**
   * The page under `key`, or what `read` gives, kept for the next caller. A null (the runtime
   * dead-lettered the record: a deadline, a rejected page) is not kept: it belongs to that record.
   * While one caller reads a page, another caller of the same key waits for it (the shadow and the
   * champion run one after the other, but a timed-out shadow's jobs go on while the champion runs);
   * if that read fails or gives null, the waiter reads the page itself, so its own record is
   * dead-lettered or failed by its own batch, never by another's.
   */
  async through(key: string, read: () => Promise<PageText | null>): Promise<PageText | null> {
    const hit = this.get(key);
    if (hit) return hit;
    const running = this.inflight.get(key);
    if (running) {
      const shared = await running.catch(() => null);
      if (shared) {
        this.counts.waits++;
        return shared;
      }
    }
    const mine = read();
    this.inflight.set(key, mine);
    try {
      const page = await mine;
      if (page) this.set(key, page);
      return page;
    } finally {
      if (this.inflight.get(key) === mine) this.inflight.delete(key);
    }
  }

  stats(): PageMemoStats {
    return { ...this.counts, bytes: this.held, entries: this.entries.size, maxBytes: this.maxBytes };
  }
}

/** The memo size from STREAMSCORE_DOCUMENTS_PAGE_MEMO_BYTES (0 turns the memo off), else the default. */
export function pageMemoBytesFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env[PAGE_MEMO_BYTES_ENV]?.trim();
  if (!raw) return DEFAULT_PAGE_MEMO_BYTES;
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n)) throw new Error(`${PAGE_MEMO_BYTES_ENV} must be a whole number of bytes (0 turns the memo off), got ${JSON.stringify(raw)}`);
  return n;
}

let shared: PageTextMemo | null | undefined;

/**
 * The process's one memo (null when sized 0), which every documents definition uses unless given
 * its own: the champion's and the challenger's definitions are two builds of this module by the
 * served processor (streams/processors.ts), so this is what lets the shadow find the champion's pages.
 */
export function sharedPageMemo(): PageTextMemo | null {
  if (shared === undefined) {
    const bytes = pageMemoBytesFromEnv();
    shared = bytes > 0 ? new PageTextMemo(bytes) : null;
  }
  return shared;
}

/**
 * The memo's counts as series of `registry`, read at scrape time: hits, misses, evictions and waits
 * as counters, the bytes and entries held and the size limit as gauges, labelled by processor.
 */
export function registerPageMemoMetrics(memo: PageTextMemo, registry: Registry, processor: string): void {
  const labels = { processor };
  const registers = [registry];
  const counts: [keyof PageMemoStats, string][] = [
    ['hits', 'Page-text memo lookups that found the page (no OCR)'],
    ['misses', 'Page-text memo lookups that did not find the page'],
    ['evictions', 'Pages evicted from the page-text memo to stay under its size'],
    ['waits', 'Callers that waited for a read of the same page already running instead of reading it'],
  ];
  for (const [key, help] of counts) {
    new Counter({ name: `streamscore_documents_page_memo_${key}_total`, help, labelNames: ['processor'] as const, registers, collect() {
      this.reset();
      this.inc(labels, memo.stats()[key]);
    } });
  }
  const levels: [string, string, (s: PageMemoStats) => number][] = [
    ['bytes', 'Bytes of page text the memo holds', (s) => s.bytes],
    ['entries', 'Pages the memo holds', (s) => s.entries],
    ['max_bytes', 'The memo size limit (STREAMSCORE_DOCUMENTS_PAGE_MEMO_BYTES)', (s) => s.maxBytes],
  ];
  for (const [name, help, value] of levels) {
    new Gauge({ name: `streamscore_documents_page_memo_${name}`, help, labelNames: ['processor'] as const, registers, collect() {
      this.set(labels, value(memo.stats()));
    } });
  }
}
