// The store-and-forward core of the gateway: batches records (linger: up to `batchMax` records or
// `lingerMs`), sends them through a sink, and when a send fails switches to the spool: the failed
// batch goes to the spool first, every later record behind it, and a drainer sends the spool in
// order until it is empty; then records go directly again. One send is in flight at a time, so the
// order per arm (per partition) is the order of `write` calls, whatever fails.
//
// Once per record: a batch is resent only after its send failed, and then exactly as it was (same
// records, same order) before anything else, so the idempotent producer gives it the same
// producer-id/sequence numbers and the broker discards it if the failed attempt had in fact been
// written. A direct send that takes longer than `sendTimeoutMs` switches new records to the spool
// at once, but the batch itself is settled by its own outcome: the drainer waits for that send and
// resends the batch only if it failed, never while it may still succeed. The spool's committed
// position moves only after an acknowledgement.
import type { Spool, Position, SpoolRecord } from './spool.ts';

export interface RecordSink {
  send(records: SpoolRecord[]): Promise<void>;
}

export interface ForwarderLog {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

export interface ForwarderHooks {
  sent?(n: number, path: 'direct' | 'spool'): void;
  spooled?(n: number): void;
  sendFailed?(err: Error): void;
  modeChanged?(mode: 'direct' | 'spooling'): void;
}

export interface ForwarderOptions {
  sink: RecordSink;
  spool: Spool;
  batchMax?: number;
  lingerMs?: number;
  /** Records per send when draining the spool (default 5 x batchMax: a backlog drains faster than it builds). */
  drainBatchMax?: number;
  /** A direct send not acknowledged within this long sends new records to the spool (default 2 s). */
  sendTimeoutMs?: number;
  /** Backoff between drain attempts while the broker is down. */
  retryInitialMs?: number;
  retryMaxMs?: number;
  log: ForwarderLog;
  hooks?: ForwarderHooks;
}

interface Batch {
  records: SpoolRecord[];
  end: Position | null;
  /** A send of this batch still in flight (timed out on the direct path): its outcome decides. */
  attempt?: Promise<void>;
}

export class Forwarder {
  mode: 'direct' | 'spooling' = 'direct';
  private readonly sink: RecordSink;
  private readonly spool: Spool;
  private readonly batchMax: number;
  private readonly drainBatchMax: number;
  private readonly lingerMs: number;
  private readonly sendTimeoutMs: number;
  private readonly retryInitialMs: number;
  private readonly retryMaxMs: number;
  private readonly log: ForwarderLog;
  private readonly hooks: ForwarderHooks;
  private buffer: SpoolRecord[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private inFlight: Promise<void> | null = null;
  private drainer: Promise<void> | null = null;
  /** The batch whose send failed on the direct path: the drainer resends exactly it first. */
  private inDoubt: Batch | null = null;
  private appending = 0;
  private closing = false;
  private wakeDrainer: (() => void) | null = null;
  private failure: Error | null = null;

  constructor(o: ForwarderOptions) {
    this.sink = o.sink;
    this.spool = o.spool;
    this.batchMax = o.batchMax ?? 1000;
    this.drainBatchMax = o.drainBatchMax ?? 5 * this.batchMax;
    this.lingerMs = o.lingerMs ?? 20;
    this.sendTimeoutMs = o.sendTimeoutMs ?? 2000;
    this.retryInitialMs = o.retryInitialMs ?? 250;
    this.retryMaxMs = o.retryMaxMs ?? 5000;
    this.log = o.log;
    this.hooks = o.hooks ?? {};
    if (!this.spool.isEmpty) {
      // Left over from the last run: drained before anything new is sent.
      this.setMode('spooling');
      this.log.info({ pending: this.spool.pending, bytes: this.spool.bytes }, 'spool has readings from the last run; draining them first');
      this.startDrainer();
    }
  }

  /** Queues a record; resolves when the caller may write the next one (backpressure). */
  write(record: SpoolRecord): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure);
    this.buffer.push(record);
    if (this.buffer.length >= this.batchMax) return this.flush();
    this.timer ??= setTimeout(() => {
      this.timer = null;
      this.flush().catch(() => {}); // the failure is kept and reported by the next write
    }, this.lingerMs);
    return undefined;
  }

  /** Hands the buffered records on (send or spool); resolves when the batch before them is out of the way. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const records = this.buffer;
    if (records.length === 0) return this.chain;
    this.buffer = [];
    this.chain = this.chain.then(() => this.dispatch(records)).catch((err: Error) => {
      this.failure ??= err;
      throw err;
    });
    return this.chain;
  }

  /** Resolves when everything written so far has been acknowledged by the broker (spool empty). */
  async drained(): Promise<void> {
    for (;;) {
      await this.flush();
      if (this.inFlight) await this.inFlight;
      if (this.failure) throw this.failure;
      if (this.mode === 'direct' && !this.drainer && !this.inFlight && this.buffer.length === 0) return;
      if (this.drainer) await this.drainer;
      else await sleep(20);
    }
  }

  /** Stops: buffered records go to the spool (sent first at the next start), the drainer stops. */
  async close(): Promise<void> {
    this.closing = true;
    await this.flush().catch(() => {});
    if (this.inFlight) await this.inFlight;
    this.wakeDrainer?.();
    if (this.drainer) await this.drainer;
  }

  private async dispatch(records: SpoolRecord[]): Promise<void> {
    if (this.mode === 'direct' && this.inFlight) await this.inFlight;
    if (this.mode === 'spooling' || this.closing) {
      await this.toSpool(records);
      if (this.mode === 'direct') this.setMode('spooling'); // closing: the next start drains these first
      this.startDrainer();
      return;
    }
    this.inFlight = this.sendDirect(records)
      .catch((err: Error) => {
        this.failure ??= err; // the spool could not take the batch (disk full?): stop, loudly
      })
      .finally(() => {
        this.inFlight = null;
      });
  }

  private async sendDirect(records: SpoolRecord[]): Promise<void> {
    const attempt = this.sink.send(records);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      attempt.then(() => null, (err: Error) => err),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), this.sendTimeoutMs))),
    ]);
    clearTimeout(timer);
    if (outcome === null) {
      this.hooks.sent?.(records.length, 'direct');
      return;
    }
    const reason = outcome === 'timeout' ? `not acknowledged within ${this.sendTimeoutMs} ms` : outcome.message;
    if (outcome !== 'timeout') this.hooks.sendFailed?.(outcome);
    this.log.warn({ err: reason, records: records.length }, 'send failed (broker unreachable?); spooling to disk until it is back');
    this.setMode('spooling');
    // The spool is empty in direct mode, so this batch is first. After a timeout its send is still
    // running: the drainer waits for it, and resends exactly this batch only if it fails.
    const end = await this.toSpool(records);
    this.inDoubt = { records, end, attempt: outcome === 'timeout' ? attempt : undefined };
    this.startDrainer();
  }

  private async toSpool(records: SpoolRecord[]): Promise<Position> {
    this.appending++;
    try {
      const end = await this.spool.append(records);
      this.hooks.spooled?.(records.length);
      return end;
    } finally {
      this.appending--;
    }
  }

  private startDrainer(): void {
    if (this.closing) return; // what is spooled now is drained at the next start
    this.drainer ??= this.drain().finally(() => {
      this.drainer = null;
    });
  }

  private async drain(): Promise<void> {
    let batch: Batch | null = null;
    let delay = this.retryInitialMs;
    let failures = 0;
    while (!this.closing) {
      if (!batch) {
        batch = this.inDoubt ?? this.spool.read(this.drainBatchMax);
        this.inDoubt = null;
        if (batch.records.length === 0) {
          batch = null;
          if (this.spool.isEmpty && this.appending === 0) {
            this.setMode('direct');
            this.log.info({}, 'spool drained; sending directly again');
            return;
          }
          await sleep(5);
          continue;
        }
        if (batch.end) this.spool.holding(batch.end);
      }
      try {
        if (batch.attempt) {
          const attempt = batch.attempt;
          batch.attempt = undefined; // if it fails, the retry is a new send of the same batch
          await attempt;
        } else await this.sink.send(batch.records);
        if (batch.end) this.spool.commit(batch.end);
        this.hooks.sent?.(batch.records.length, 'spool');
        if (failures > 0) this.log.info({ failedAttempts: failures, pending: this.spool.pending }, 'broker reachable again; draining the spool');
        batch = null;
        delay = this.retryInitialMs;
        failures = 0;
      } catch (err) {
        failures++;
        this.hooks.sendFailed?.(err as Error);
        const fields = { err: (err as Error).message, pending: this.spool.pending, spoolBytes: this.spool.bytes, retryInMs: delay };
        if (failures === 1 || failures % 20 === 0) this.log.warn(fields, 'broker still unreachable; readings stay in the spool');
        else this.log.debug(fields, 'drain attempt failed');
        await new Promise<void>((resolve) => {
          this.wakeDrainer = resolve;
          setTimeout(resolve, delay);
        });
        this.wakeDrainer = null;
        delay = Math.min(delay * 2, this.retryMaxMs);
      }
    }
  }

  private setMode(mode: 'direct' | 'spooling'): void {
    if (this.mode === mode) return;
    this.mode = mode;
    this.hooks.modeChanged?.(mode);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
