// Bounds the records in flight across concurrently handled partitions. kafkajs fetches ahead while
// handlers run; when a slow handler (OCR, CNN) lets work pile up past `high`, the input topics are
// paused and fetching stops; they resume once the backlog drains to half.
export class InFlightGate {
  private inFlight = 0;
  private paused = false;
  private readonly high: number;
  private readonly pause: () => void;
  private readonly resume: () => void;

  constructor(high: number, pause: () => void, resume: () => void) {
    if (!(high > 0)) throw new Error('in-flight bound must be positive');
    this.high = high;
    this.pause = pause;
    this.resume = resume;
  }

  acquire(records: number): void {
    this.inFlight += records;
    if (!this.paused && this.inFlight >= this.high) {
      this.paused = true;
      this.pause();
    }
  }

  release(records: number): void {
    this.inFlight = Math.max(0, this.inFlight - records);
    if (this.paused && this.inFlight <= this.high / 2) {
      this.paused = false;
      this.resume();
    }
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get count(): number {
    return this.inFlight;
  }
}
