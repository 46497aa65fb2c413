import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import avro from 'avsc';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { TOPICS, loadSchema } from '../../schemas/topics.ts';
import {
  DEFAULT_CUTOFF,
  TELCO_SAMPLE_CSV,
  TELCO_SHARED_CSV,
  TelcoCsvError,
  customerEvents,
  defaultTelcoCsv,
  parseTelcoRow,
  readTelcoCsv,
  telcoEvents,
  type TelcoCustomer,
} from './telco-events.ts';

const DAY_MS = 86_400_000;
const C = DEFAULT_CUTOFF;
const END_OF_C = C + DAY_MS;
const USAGE = new Set(['CALL', 'DATA_SESSION']);

describe('IBM Telco table -> billing events', () => {
  // The full table when ../shared has it (every row checked), else the bundled sample.
  const csv = defaultTelcoCsv();
  let customers: TelcoCustomer[];
  let events: BillingEvent[];
  const byUser = new Map<string, BillingEvent[]>();

  before(() => {
    customers = readTelcoCsv(csv);
    events = [...telcoEvents(customers, C)];
    for (const e of events) {
      const list = byUser.get(e.user_id);
      if (list) list.push(e);
      else byUser.set(e.user_id, [e]);
    }
  });

  it('reads every row of the table', () => {
    assert.equal(customers.length, existsSync(TELCO_SHARED_CSV) ? 5_636 : 1_000);
  });

  it('every row: `tenure` bills summing to TotalCharges, the last one MonthlyCharges, each paid, all before C', () => {
    for (const c of customers) {
      const mine = byUser.get(c.customerId) ?? [];
      const bills = mine.filter((e) => e.event_type === 'BILL');
      const payments = mine.filter((e) => e.event_type === 'PAYMENT');
      assert.equal(bills.length, c.tenure, `${c.customerId}: ${bills.length} bills for tenure ${c.tenure}`);
      assert.equal(payments.length, bills.length, `${c.customerId}: a payment per bill`);
      if (c.tenure === 0) continue;
      const total = bills.reduce((sum, b) => sum + b.amount!, 0);
      assert.ok(Math.abs(total - c.totalCharges!) <= 0.01, `${c.customerId}: bills sum to ${total.toFixed(2)}, TotalCharges ${c.totalCharges}`);
      if (c.tenure >= 2) assert.equal(bills.at(-1)!.amount, c.monthlyCharges, `${c.customerId}: last bill`);
      bills.forEach((b, k) => {
        assert.equal(payments[k].amount, b.amount);
        assert.ok(payments[k].event_time > b.event_time && payments[k].event_time < END_OF_C, `${c.customerId}: payment ${k + 1} after its bill, before the end of C`);
        assert.equal(b.plan, `${c.contract}/${c.internet}`);
        assert.equal(b.payment_method, c.paymentMethod);
        assert.equal(b.currency, 'USD');
      });
      // Monthly: the last bill covers the month ending at C.
      const lastBill = bills.at(-1)!.event_time;
      assert.ok(lastBill < END_OF_C - 27 * DAY_MS && lastBill >= END_OF_C - 32 * DAY_MS, `${c.customerId}: last bill ${new Date(lastBill).toISOString()}`);
    }
  });

  it('exactly one CANCELLATION in (C, C+30 days] for Churn=Yes, none for Churn=No, and it is the last event', () => {
    for (const c of customers) {
      const mine = byUser.get(c.customerId) ?? [];
      const cancellations = mine.filter((e) => e.event_type === 'CANCELLATION');
      if (!c.churn) {
        assert.equal(cancellations.length, 0, `${c.customerId} did not churn`);
        continue;
      }
      assert.equal(cancellations.length, 1, `${c.customerId} churned`);
      const t = cancellations[0].event_time;
      assert.ok(t >= END_OF_C && t < END_OF_C + 30 * DAY_MS, `${c.customerId}: cancelled ${new Date(t).toISOString()}`);
      assert.equal(mine.at(-1), cancellations[0]);
    }
  });

  it('usage: calls only with phone service, data only with internet, within the 90 days up to C, under one a customer-day', () => {
    let usage = 0;
    let customerDays = 0;
    for (const c of customers) {
      const mine = (byUser.get(c.customerId) ?? []).filter((e) => USAGE.has(e.event_type));
      if (!c.phoneService) assert.ok(!mine.some((e) => e.event_type === 'CALL'), `${c.customerId}: call without phone service`);
      if (c.internet === 'no-internet') assert.ok(!mine.some((e) => e.event_type === 'DATA_SESSION'), `${c.customerId}: data without internet`);
      for (const e of mine) assert.ok(e.event_time >= C - 89 * DAY_MS && e.event_time < END_OF_C, `${e.event_id} outside the usage window`);
      usage += mine.length;
      customerDays += 90;
    }
    assert.ok(usage / customerDays < 1, `${(usage / customerDays).toFixed(2)} usage events a customer-day`);
    if (customers.length === 5_636) assert.ok(events.length < 600_000, `${events.length} events for the whole table`);
  });

  it('streams sorted by event time, ids unique, every event valid against the Avro schema', () => {
    const type = avro.Type.forSchema(loadSchema(TOPICS.billingEvents.schema) as avro.Schema);
    for (let i = 1; i < events.length; i++) assert.ok(events[i].event_time >= events[i - 1].event_time, `event ${i} goes back in time`);
    assert.equal(new Set(events.map((e) => e.event_id)).size, events.length);
    for (const e of events) if (!type.isValid(e)) assert.fail(`invalid event ${JSON.stringify(e)}`);
  });

  it('is deterministic per customer: reruns and other row selections give the same events', () => {
    const again = [...telcoEvents(readTelcoCsv(csv, 200), C)];
    const first200 = new Set(customers.slice(0, 200).map((c) => c.customerId));
    assert.deepEqual(again, events.filter((e) => first200.has(e.user_id)));
    const one = customers[137];
    assert.deepEqual(customerEvents(one, C), byUser.get(one.customerId));
  });

  it('the bundled sample is the first 1,000 rows of the shared table (when ../shared has it)', { skip: existsSync(TELCO_SHARED_CSV) ? false : `${TELCO_SHARED_CSV} not present` }, () => {
    const shared = readFileSync(TELCO_SHARED_CSV, 'utf8').split('\n');
    assert.equal(readFileSync(TELCO_SAMPLE_CSV, 'utf8'), `${shared.slice(0, 1_001).join('\n')}\n`);
  });

  it('rejects rows it cannot represent, naming the line', () => {
    const row = { customerID: 'X-1', tenure: '3', PhoneService: 'Yes', MultipleLines: 'No', InternetService: 'DSL', StreamingTV: 'No', StreamingMovies: 'No', Contract: 'One year', PaymentMethod: 'Mailed check', MonthlyCharges: '50', TotalCharges: '150', Churn: 'No' };
    assert.equal(parseTelcoRow(row, 'f.csv:2').contract, 'one-year');
    assert.throws(() => parseTelcoRow({ ...row, tenure: 'x' }, 'f.csv:2'), (e: Error) => e instanceof TelcoCsvError && /f\.csv:2: tenure/.test(e.message));
    assert.throws(() => parseTelcoRow({ ...row, TotalCharges: '' }, 'f.csv:9'), /f\.csv:9: TotalCharges is blank but tenure is 3/);
    assert.throws(() => parseTelcoRow({ ...row, PaymentMethod: 'Cash' }, 'f.csv:4'), /PaymentMethod "Cash" is not one of/);
  });
});
