import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { createLogger } from '../../streams/runtime/logger.ts';
import { produceBillingEvents } from './producer.ts';
import { subscriberEvents } from './subscriber-simulator.ts';
import { TELCO_SAMPLE_CSV, readTelcoCsv, telcoEvents } from './telco-events.ts';

const log = createLogger({ test: true }).child({}, { level: 'fatal' });
const dir = mkdtempSync(join(tmpdir(), 'billing-producer-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function readJsonl(path: string): BillingEvent[] {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => JSON.parse(line) as BillingEvent);
}

describe('billing producer (JSON-lines destination)', () => {
  it('writes every event in order and reports counts and the event-time range', async () => {
    const events = [...telcoEvents(readTelcoCsv(TELCO_SAMPLE_CSV, 120))];
    const path = join(dir, 'telco.jsonl');
    const summary = await produceBillingEvents(events, { destination: { kind: 'jsonl', path }, batchSize: 1_000, log });
    assert.deepEqual(readJsonl(path), events);
    assert.equal(summary.produced, events.length);
    assert.equal(summary.cancellations, events.filter((e) => e.event_type === 'CANCELLATION').length);
    assert.ok(summary.cancellations > 0);
    assert.equal(summary.firstEventTime, events[0].event_time);
    assert.equal(summary.lastEventTime, events.at(-1)!.event_time);
    assert.equal(summary.stopped, false);
  });

  it('--rate throttles: 1,500 events at 3,000/s take about half a second', async () => {
    const events = [...subscriberEvents({ users: 200, days: 2 })].slice(0, 1_500);
    const summary = await produceBillingEvents(events, { destination: { kind: 'jsonl', path: join(dir, 'rate.jsonl') }, rate: 3_000, log });
    assert.equal(summary.produced, 1_500);
    assert.ok(summary.seconds >= 0.45, `took ${summary.seconds.toFixed(2)} s`);
    assert.ok(summary.eventsPerSecond <= 3_300, `${summary.eventsPerSecond} events/s`);
  });

  it('stops after the batch in flight when aborted, with what it produced', async () => {
    const abort = new AbortController();
    const events = (function* () {
      for (const e of subscriberEvents({ users: 1_000, days: 30 })) {
        yield e;
        abort.abort(); // the first send then sees the signal
      }
    })();
    const path = join(dir, 'stopped.jsonl');
    const summary = await produceBillingEvents(events, { destination: { kind: 'jsonl', path }, batchSize: 500, log, signal: abort.signal });
    assert.equal(summary.stopped, true);
    assert.equal(summary.produced, 500);
    assert.equal(readJsonl(path).length, 500);
  });
});
