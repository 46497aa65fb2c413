// Bounds the work a processor has handed to its worker pool, by count and by bytes (the frames,
// images or documents the jobs carry): a job waits here, in FIFO order, until both bounds have
// room. A single job larger than the byte bound is admitted when nothing else is in flight, so an
// oversized input is slow, never a deadlock. While jobs wait, the batch handler awaits them, so the
// consumer fetches no more for that partition: this is the backpressure of offloaded work.
export class InflightLimiter {
  private inFlight = 0;
  private inFlightBytes = 0;
  private readonly waiting: { bytes: number; admit: () => void }[] = [];

  readonly maxCount: number;
  readonly maxBytes: number;

  constructor(maxCount: number, maxBytes: number) {
    if (!Number.isInteger(maxCount) || maxCount < 1) throw new Error(`in-flight job bound must be an integer >= 1, got ${maxCount}`);
    if (!Number.isFinite(maxBytes) || maxBytes < 1) throw new Error(`in-flight byte bound must be >= 1, got ${maxBytes}`);
    this.maxCount = maxCount;
    this.maxBytes = maxBytes;
  }

  get count(): number {
    return this.inFlight;
  }

  get bytes(): number {
    return this.inFlightBytes;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves when the job may run; call release(bytes) exactly once when it is done. */
  acquire(bytes: number): Promise<void> {
    if (!Number.isFinite(bytes) || bytes < 0) throw new Error(`job size must be a number of bytes >= 0, got ${bytes}`);
    return new Promise((resolve) => {
      this.waiting.push({ bytes, admit: resolve });
      this.drain();
    });
  }

  release(bytes: number): void {
    this.inFlight--;
    this.inFlightBytes -= bytes;
    this.drain();
  }

  private fits(bytes: number): boolean {
    return this.inFlight === 0 || (this.inFlight < this.maxCount && this.inFlightBytes + bytes <= this.maxBytes);
  }

  /** Admits waiting jobs in order; a job that does not fit holds back those behind it (no overtaking by small jobs). */
  private drain(): void {
    while (this.waiting.length && this.fits(this.waiting[0].bytes)) {
      const next = this.waiting.shift()!;
      this.inFlight++;
      this.inFlightBytes += next.bytes;
      next.admit();
    }
  }
}
