// The live view's memory of recent pictures: frames (from vision.frames.v1) and heatmap overlays
// (from the results), by frame id, bounded by bytes and count; the oldest go first. A browser asks
// for a picture right after its result arrives, and the frame may still be on its way (the two
// topics are fetched independently), so a reader can wait a little for an id not seen yet.

export interface CachedImage {
  bytes: Buffer;
  contentType: 'image/jpeg' | 'image/png';
  width: number | null;
  height: number | null;
}

export class ImageCache {
  private readonly entries = new Map<string, CachedImage>();
  private readonly waiters = new Map<string, Set<(image: CachedImage) => void>>();
  private totalBytes = 0;
  private readonly maxBytes: number;
  private readonly maxEntries: number;
  evicted = 0;

  constructor(o: { maxBytes: number; maxEntries?: number }) {
    if (!(o.maxBytes > 0)) throw new RangeError(`image cache needs maxBytes > 0, got ${o.maxBytes}`);
    this.maxBytes = o.maxBytes;
    this.maxEntries = o.maxEntries ?? 10_000;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get size(): number {
    return this.entries.size;
  }

  put(id: string, image: CachedImage): void {
    // An image larger than the whole cache is not kept (it would evict everything else).
    if (image.bytes.length > this.maxBytes) return;
    const old = this.entries.get(id);
    if (old) {
      this.totalBytes -= old.bytes.length;
      this.entries.delete(id);
    }
    this.entries.set(id, image);
    this.totalBytes += image.bytes.length;
    for (const [oldest, entry] of this.entries) {
      if (this.totalBytes <= this.maxBytes && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.totalBytes -= entry.bytes.length;
      this.evicted++;
    }
    const waiting = this.waiters.get(id);
    if (waiting) {
      this.waiters.delete(id);
      for (const w of waiting) w(image);
    }
  }

  get(id: string): CachedImage | undefined {
    return this.entries.get(id);
  }

  /** The image now, or when it arrives within `ms`; undefined after that. */
  waitFor(id: string, ms: number): Promise<CachedImage | undefined> {
    const now = this.entries.get(id);
    if (now || ms <= 0) return Promise.resolve(now);
    return new Promise((resolve) => {
      const set = this.waiters.get(id) ?? new Set();
      this.waiters.set(id, set);
      const done = (image: CachedImage | undefined) => {
        clearTimeout(timer);
        set.delete(done);
        if (set.size === 0 && this.waiters.get(id) === set) this.waiters.delete(id);
        resolve(image);
      };
      const timer = setTimeout(() => done(undefined), ms);
      set.add(done);
    });
  }
}
