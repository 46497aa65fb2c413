import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { Forwarder, type RecordSink } from './forwarder.ts';
import { Spool, type SpoolRecord } from './spool.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function spoolIn(dir?: string): Spool {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'fwd-test-'));
  if (!dir) dirs.push(d);
  return new Spool({ dir: d, segmentBytes: 4096, maxBytes: 1 << 20, fsync: 'never' });
}
const quiet = { debug() {}, info() {}, warn() {} };
const rec = (arm: number, seq: number): SpoolRecord => ({ key: `arm-${arm}`, value: Buffer.from(`${arm}:${seq}`), timestamp: seq });

/**
 * A broker stand-in with the idempotent producer's guarantee: a batch resent exactly as it was (same
 * records in the same order) right after a send whose acknowledgement was lost is not written twice.
 * Outages are scripted by send number, so the test does not depend on timing.
 */
class FlakyBroker implements RecordSink {
  log: SpoolRecord[] = [];
  sends: SpoolRecord[][] = [];
  down = false;
  private readonly script = new Map<number, { kind: 'refuse' | 'lose-ack' | 'slow'; thenRefuse: number; delayMs: number }>();
  private refuseLeft = 0;
  private unacked: SpoolRecord[] | null = null;

  /** Send number `at` (0-based) fails — refused, or written with its ack lost — and the next `thenRefuse` sends are refused. */
  outage(at: number, kind: 'refuse' | 'lose-ack', thenRefuse: number, delayMs = 0): this {
    this.script.set(at, { kind, thenRefuse, delayMs });
    return this;
  }

  /** Send number `at` takes `delayMs` and then succeeds. */
  slow(at: number, delayMs: number): this {
    this.script.set(at, { kind: 'slow', thenRefuse: 0, delayMs });
    return this;
  }

  async send(records: SpoolRecord[]): Promise<void> {
    const n = this.sends.push(records) - 1;
    const scripted = this.script.get(n);
    await new Promise((r) => (scripted?.delayMs ? setTimeout(r, scripted.delayMs) : setImmediate(r)));
    if (this.down || (this.refuseLeft > 0 && this.refuseLeft--)) throw new Error('connect ECONNREFUSED');
    if (scripted?.kind === 'refuse') {
      this.refuseLeft = scripted.thenRefuse;
      throw new Error('connect ECONNREFUSED');
    }
    if (this.unacked) {
      const same = this.unacked.length === records.length && this.unacked.every((r, i) => r.value.equals(records[i].value));
      this.unacked = null;
      if (same) return; // duplicate of the batch whose ack was lost: acknowledged, not written again
    }
    this.log.push(...records);
    if (scripted?.kind === 'lose-ack') {
      this.unacked = records;
      this.refuseLeft = scripted.thenRefuse;
      throw new Error('connection closed before the produce response');
    }
  }

  perArm(): Map<string, number[]> {
    const m = new Map<string, number[]>();
    for (const r of this.log) {
      const [arm, seq] = r.value.toString().split(':');
      if (!m.has(arm)) m.set(arm, []);
      m.get(arm)!.push(Number(seq));
    }
    return m;
  }
}

/** Lets sends and timers run between writes, as a paced source would. */
const tick = () => new Promise((r) => setTimeout(r, 1));

function assertExactlyOnceInOrder(broker: FlakyBroker, arms: number, perArm: number): void {
  const m = broker.perArm();
  assert.equal(m.size, arms);
  for (const [arm, seqs] of m) assert.deepEqual(seqs, Array.from({ length: perArm }, (_, i) => i), `arm ${arm}`);
}

describe('forwarder (store-and-forward)', () => {
  it('sends directly in batches while the broker is up', async () => {
    const broker = new FlakyBroker();
    const f = new Forwarder({ sink: broker, spool: spoolIn(), batchMax: 50, lingerMs: 5, log: quiet });
    for (let s = 0; s < 100; s++) for (let a = 0; a < 5; a++) await f.write(rec(a, s));
    await f.drained();
    assertExactlyOnceInOrder(broker, 5, 100);
    assert.ok(broker.sends.every((b) => b.length <= 50));
    assert.equal(f.mode, 'direct');
    await f.close();
  });

  it('spools during an outage, drains in order when the broker returns, then sends directly again', async () => {
    const broker = new FlakyBroker().outage(5, 'refuse', 15);
    const spool = spoolIn();
    const modes: string[] = [];
    let maxPending = 0;
    const f = new Forwarder({ sink: broker, spool, batchMax: 20, lingerMs: 2, retryInitialMs: 2, retryMaxMs: 4, log: quiet, hooks: { modeChanged: (m) => modes.push(m), spooled: () => (maxPending = Math.max(maxPending, spool.pending)) } });
    for (let s = 0; s < 300; s++) {
      for (let a = 0; a < 4; a++) await f.write(rec(a, s));
      if (s % 5 === 0) await tick();
    }
    await f.drained();
    assert.ok(maxPending > 40, `readings were spooled while the broker was down (max ${maxPending})`);
    assertExactlyOnceInOrder(broker, 4, 300);
    assert.deepEqual(modes, ['spooling', 'direct']);
    assert.equal(spool.pending, 0);
    await f.close();
  });

  it('a send whose acknowledgement was lost is resent exactly as it was, so it is not written twice', async () => {
    // Send 3 is on the direct path; send 9 comes while the spool is draining after the first outage.
    const broker = new FlakyBroker().outage(3, 'lose-ack', 2).outage(9, 'lose-ack', 3);
    const f = new Forwarder({ sink: broker, spool: spoolIn(), batchMax: 10, lingerMs: 2, retryInitialMs: 2, retryMaxMs: 4, log: quiet });
    for (let s = 0; s < 100; s++) {
      for (let a = 0; a < 3; a++) await f.write(rec(a, s));
      if (s % 3 === 0) await tick();
    }
    await f.drained();
    assertExactlyOnceInOrder(broker, 3, 100);
    const contents = (b: SpoolRecord[]) => b.map((r) => r.value.toString()).join(' ');
    for (const at of [3, 9]) assert.equal(contents(broker.sends[at + 1]), contents(broker.sends[at]), `send ${at} is retried with the same batch`);
    await f.close();
  });

  it('a direct send that outlasts sendTimeoutMs spools what follows, and is settled by its own outcome', async () => {
    // Send 2 succeeds late (must not be resent); send 6 is written late but its ack is lost (resent once, de-duplicated).
    const broker = new FlakyBroker().slow(2, 60).outage(6, 'lose-ack', 1, 60);
    const spool = spoolIn();
    let maxPending = 0;
    const f = new Forwarder({ sink: broker, spool, batchMax: 10, lingerMs: 2, sendTimeoutMs: 15, retryInitialMs: 2, retryMaxMs: 4, log: quiet, hooks: { spooled: () => (maxPending = Math.max(maxPending, spool.pending)) } });
    for (let s = 0; s < 120; s++) {
      for (let a = 0; a < 2; a++) await f.write(rec(a, s));
      if (s % 4 === 0) await tick();
    }
    await f.drained();
    assertExactlyOnceInOrder(broker, 2, 120);
    assert.ok(maxPending > 10, 'records after the slow send went to the spool');
    const contents = (b: SpoolRecord[]) => b.map((r) => r.value.toString()).join(' ');
    assert.equal(broker.sends.filter((b) => contents(b) === contents(broker.sends[2])).length, 1, 'the late success is not resent');
    assert.equal(contents(broker.sends[7]), contents(broker.sends[6]), 'the lost ack is retried with the same batch');
    await f.close();
  });

  it('close puts buffered readings in the spool; the next start drains them before new ones', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'fwd-test-'));
    dirs.push(dir);
    const broker = new FlakyBroker();
    broker.down = true;
    const spool1 = spoolIn(dir);
    const f1 = new Forwarder({ sink: broker, spool: spool1, batchMax: 7, lingerMs: 1000, retryInitialMs: 5, log: quiet });
    for (let s = 0; s < 50; s++) await f1.write(rec(1, s));
    await f1.close();
    spool1.close();
    assert.equal(broker.log.length, 0);

    broker.down = false;
    const spool2 = spoolIn(dir);
    assert.equal(spool2.pending, 50);
    const f2 = new Forwarder({ sink: broker, spool: spool2, batchMax: 7, lingerMs: 1, log: quiet });
    assert.equal(f2.mode, 'spooling');
    for (let s = 50; s < 80; s++) await f2.write(rec(1, s));
    await f2.drained();
    assertExactlyOnceInOrder(broker, 1, 80);
    await f2.close();
    spool2.close();
  });
});
