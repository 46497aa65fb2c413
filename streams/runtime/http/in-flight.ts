// A bound on the requests an API works on at once, with a bounded FIFO queue in front of it. A
// queued request has not had its body read (TCP holds it back), so waiting costs a socket and its
// headers, not memory for the body: a burst becomes latency, not 503s, and only a request that finds
// the queue full or waits longer than `maxWaitMs` is refused.

interface Waiter {
  grant: (granted: boolean) => void;
  timer: NodeJS.Timeout;
}

export class InFlightLimit {
  readonly max: number;
  readonly maxQueued: number;
  readonly maxWaitMs: number;
  private active = 0;
  private readonly queue: Waiter[] = [];

  constructor(o: { max: number; maxQueued: number; maxWaitMs: number }) {
    this.max = o.max;
    this.maxQueued = o.maxQueued;
    this.maxWaitMs = o.maxWaitMs;
  }

  get inFlight(): number {
    return this.active;
  }

  get queued(): number {
    return this.queue.length;
  }

  /**
   * Resolves true with a slot taken (call `release` once), or false when the queue is full or the
   * wait ran out. `cancel` (e.g. the client hung up) withdraws a queued request.
   */
  acquire(onCancel: (cancel: () => void) => void): Promise<boolean> {
    if (this.active < this.max) {
      this.active++;
      return Promise.resolve(true);
    }
    if (this.queue.length >= this.maxQueued) return Promise.resolve(false);
    return new Promise((resolve) => {
      const waiter: Waiter = {
        grant: (granted) => {
          clearTimeout(waiter.timer);
          resolve(granted);
        },
        timer: setTimeout(() => this.withdraw(waiter, false), this.maxWaitMs),
      };
      this.queue.push(waiter);
      onCancel(() => this.withdraw(waiter, false));
    });
  }

  release(): void {
    const next = this.queue.shift();
    if (next) next.grant(true); // the slot passes straight to the next in line
    else this.active--;
  }

  private withdraw(waiter: Waiter, granted: boolean): void {
    const at = this.queue.indexOf(waiter);
    if (at < 0) return;
    this.queue.splice(at, 1);
    waiter.grant(granted);
  }
}
