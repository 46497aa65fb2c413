import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import avro from 'avsc';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import { subscriberEvents, subscriberId, type SubscriberSimulatorOptions } from './subscriber-simulator.ts';

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 3, 1);
const USAGE = new Set(['CALL', 'DATA_SESSION', 'SMS']);

function take(events: Iterable<BillingEvent>, n: number): BillingEvent[] {
  const out: BillingEvent[] = [];
  for (const e of events) {
    out.push(e);
    if (out.length === n) break;
  }
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

describe('subscriber simulator', () => {
  it('is deterministic: the same seed gives the same events, ids included; another seed does not', () => {
    const opts: Partial<SubscriberSimulatorOptions> = { users: 500, days: 5, seed: 5, start: START };
    const a = take(subscriberEvents(opts), 5_000);
    assert.equal(a.length, 5_000);
    assert.deepEqual(take(subscriberEvents(opts), 5_000), a);
    const other = take(subscriberEvents({ ...opts, seed: 6 }), 5_000);
    assert.notDeepEqual(other.map((e) => e.event_id), a.map((e) => e.event_id));
  });

  it('a subscriber is the same however many subscribers run beside it', () => {
    const second = (users: number) => [...subscriberEvents({ users, days: 10, seed: 3, start: START })].filter((e) => e.user_id === subscriberId(1));
    const alone = second(2);
    assert.ok(alone.length > 20);
    assert.deepEqual(second(40), alone);
  });

  it('streams in event-time order with unique ids, every event valid against the Avro schema', () => {
    const type = avro.Type.forSchema(loadSchema(TOPICS.billingEvents.schema) as avro.Schema);
    const ids = new Set<string>();
    let last = -Infinity;
    let n = 0;
    for (const e of subscriberEvents({ users: 1_000, days: 35, seed: 9, start: START })) {
      n++;
      assert.ok(e.event_time >= last, `event ${n} (${e.event_id}) goes back in time`);
      last = e.event_time;
      assert.ok(!ids.has(e.event_id), `duplicate id ${e.event_id}`);
      ids.add(e.event_id);
      if (!type.isValid(e)) assert.fail(`invalid event ${JSON.stringify(e)}`);
    }
    assert.ok(last < START + 35 * DAY_MS);
    // Every type shows up in a month of 1,000 subscribers.
    const types = new Set([...ids].map((id) => id.split('-').at(-1)));
    for (const suffix of ['bill', 'payment', 'complaint', 'cancel']) assert.ok(types.has(suffix), `no ${suffix} event`);
  });

  it('starts a million-subscriber day without drawing the whole day first (lazy)', () => {
    const heapBefore = process.memoryUsage().heapUsed;
    const started = performance.now();
    const first = take(subscriberEvents({ users: 1_000_000, days: 1, seed: 1, start: START }), 1_000);
    const seconds = (performance.now() - started) / 1000;
    const heapGrowthMb = (process.memoryUsage().heapUsed - heapBefore) / 1e6;
    assert.equal(first.length, 1_000);
    // The day has ~4 M events (~1.2 GB as objects); only the first hour's have been drawn.
    assert.ok(first.every((e) => e.event_time < START + 3_600_000), 'the first events come from the first hour');
    assert.ok(heapGrowthMb < 400, `heap grew ${heapGrowthMb.toFixed(0)} MB`);
    assert.ok(seconds < 20, `first 1,000 events took ${seconds.toFixed(1)} s`);
  });

  describe('churn behaviour over 90 days of 10,000 subscribers', () => {
    const USERS = 10_000;
    const DAYS = 90;
    /** Per subscriber: usage events per day, complaint days, late-payment days, cancellation day. */
    const usage = new Map<string, Uint16Array>();
    const complaints = new Map<string, number[]>();
    const latePayments = new Map<string, number[]>();
    const cancelDay = new Map<string, number>();
    const afterCancel: string[] = [];

    before(() => {
      const cancelledAt = new Map<string, number>();
      for (const e of subscriberEvents({ users: USERS, days: DAYS, seed: 7, start: START })) {
        if (cancelledAt.has(e.user_id)) afterCancel.push(e.event_id);
        const day = Math.floor((e.event_time - START) / DAY_MS);
        if (e.event_type === 'CANCELLATION') {
          cancelledAt.set(e.user_id, e.event_time);
          cancelDay.set(e.user_id, day);
        } else if (USAGE.has(e.event_type)) {
          let perDay = usage.get(e.user_id);
          if (!perDay) usage.set(e.user_id, (perDay = new Uint16Array(DAYS)));
          perDay[day]++;
        } else if (e.event_type === 'COMPLAINT') {
          complaints.set(e.user_id, [...(complaints.get(e.user_id) ?? []), day]);
        } else if (e.event_type === 'PAYMENT' && e.late_payment) {
          latePayments.set(e.user_id, [...(latePayments.get(e.user_id) ?? []), day]);
        }
      }
    });

    const sum = (a: Uint16Array | undefined, from: number, to: number) => {
      let s = 0;
      for (let d = from; d < to; d++) s += a?.[d] ?? 0;
      return s;
    };
    const within = (days: number[] | undefined, from: number, to: number) => (days ?? []).filter((d) => d >= from && d < to).length;

    it('after its CANCELLATION a subscriber emits nothing', () => {
      assert.deepEqual(afterCancel, []);
      assert.ok(cancelDay.size > 0);
    });

    it('about 2-4 % of subscribers cancel per month', () => {
      const cancelled = cancelDay.size / USERS;
      const monthly = 1 - (1 - cancelled) ** (30.44 / DAYS);
      assert.ok(monthly > 0.02 && monthly < 0.04, `monthly churn ${(monthly * 100).toFixed(2)} %`);
      // Spread over the whole period, not bunched at the start.
      const perMonth = [0, 1, 2].map((m) => [...cancelDay.values()].filter((d) => Math.floor(d / 30) === m).length / USERS);
      for (const rate of perMonth) assert.ok(rate > 0.015 && rate < 0.045, `a month's churn ${perMonth.map((r) => (r * 100).toFixed(2)).join(' / ')} %`);
    });

    it("churners' usage fades and their complaints and late payments rise before they cancel; others' do not", () => {
      // Churners cancelling from day 60 on (their leaving started after the first two weeks):
      // usage in their last 14 days vs the first 14 days. Stayers: days 76-89 vs the first 14.
      const churnRatios: number[] = [];
      const stayRatios: number[] = [];
      let churnComplaints = 0;
      let churnLate = 0;
      let churners = 0;
      let stayComplaints = 0;
      let stayLate = 0;
      let stayers = 0;
      for (let u = 0; u < USERS; u++) {
        const id = subscriberId(u);
        const perDay = usage.get(id);
        const cancel = cancelDay.get(id);
        const baseline = sum(perDay, 0, 14);
        if (cancel !== undefined && cancel >= 60) {
          churners++;
          if (baseline > 0) churnRatios.push(sum(perDay, cancel - 14, cancel) / baseline);
          churnComplaints += within(complaints.get(id), cancel - 30, cancel);
          churnLate += within(latePayments.get(id), cancel - 30, cancel);
        } else if (cancel === undefined) {
          stayers++;
          if (baseline > 0) stayRatios.push(sum(perDay, DAYS - 14, DAYS) / baseline);
          stayComplaints += within(complaints.get(id), DAYS - 30, DAYS);
          stayLate += within(latePayments.get(id), DAYS - 30, DAYS);
        }
      }
      assert.ok(churners > 100, `only ${churners} late churners`);
      const churnUsage = mean(churnRatios);
      const stayUsage = mean(stayRatios);
      assert.ok(churnUsage < 0.7, `churners' last-two-weeks usage is ${churnUsage.toFixed(2)} of their first two weeks`);
      assert.ok(stayUsage > 0.9 && stayUsage < 1.1, `stayers' usage ratio ${stayUsage.toFixed(2)}`);
      const complaintRatio = churnComplaints / churners / (stayComplaints / stayers);
      const lateRatio = churnLate / churners / (stayLate / stayers);
      assert.ok(complaintRatio > 2, `churners complain ${complaintRatio.toFixed(2)}x as often in their last 30 days`);
      assert.ok(lateRatio > 1.3, `churners pay late ${lateRatio.toFixed(2)}x as often in their last 30 days`);
    });
  });
});
