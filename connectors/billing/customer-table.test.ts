import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import { cutoffOf, loadCustomerMapping } from './customer-mapping.ts';
import { readCustomerTable } from './customer-rows.ts';
import { customerTableEvents, mappedCustomerEvents } from './customer-table.ts';
import { DEFAULT_CUTOFF, TELCO_SAMPLE_CSV, readTelcoCsv, telcoEvents } from './telco-events.ts';

const MAPPINGS = join(REPO_ROOT, 'connectors', 'mappings', 'customers');
const DAY_MS = 86_400_000;

test('the ibm-telco mapping gives, on the bundled sample, the events of telcoEvents event for event (plus ACCOUNT_OPENED)', () => {
  const mapping = loadCustomerMapping(join(MAPPINGS, 'ibm-telco.json'));
  assert.equal(cutoffOf(mapping), DEFAULT_CUTOFF);
  const table = readCustomerTable(TELCO_SAMPLE_CSV, mapping);
  assert.equal(table.customers.length, 1_000);
  assert.deepEqual(table.rejects, []);
  const mapped = [...customerTableEvents(table.customers, mapping, DEFAULT_CUTOFF)];
  const expected = [...telcoEvents(readTelcoCsv(TELCO_SAMPLE_CSV), DEFAULT_CUTOFF)];
  assert.ok(expected.length > 100_000, `${expected.length} events`);
  assert.deepEqual(mapped.filter((e) => e.event_type !== 'ACCOUNT_OPENED'), expected);
  // One open per customer, before anything else of theirs, with the plan and payment method.
  const opened = mapped.filter((e) => e.event_type === 'ACCOUNT_OPENED');
  assert.equal(opened.length, 1_000);
  const firstOf = new Map<string, number>();
  for (const e of mapped) if (!firstOf.has(e.user_id)) firstOf.set(e.user_id, e.event_time);
  for (const o of opened) {
    assert.equal(firstOf.get(o.user_id), o.event_time, `${o.user_id} opens first`);
    assert.ok(o.plan && o.payment_method, `${o.user_id} opens with a plan and a payment method`);
  }
});

test('an IBM customer with tenure 0 and no service still has a history by the cut-off: its ACCOUNT_OPENED', () => {
  const mapping = loadCustomerMapping(join(MAPPINGS, 'ibm-telco.json'));
  const header = 'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn';
  const file = join(mkdtempSync(join(tmpdir(), 'telco-')), 'table.csv');
  writeFileSync(file, `${header}\n0000-NEW,Female,0,No,No,0,No,No phone service,No,No internet service,No internet service,No internet service,No internet service,No internet service,No internet service,Month-to-month,Yes,Mailed check,20.05,,Yes\n`);
  const { customers, rejects } = readCustomerTable(file, mapping);
  assert.deepEqual(rejects, []);
  const events = mappedCustomerEvents(customers[0], mapping, DEFAULT_CUTOFF);
  // telcoEvents gives it only the CANCELLATION after C: no event by C, so no features and no score
  assert.deepEqual([...telcoEvents(readTelcoCsv(file), DEFAULT_CUTOFF)].map((e) => e.event_type), ['CANCELLATION']);
  assert.deepEqual(events.map((e) => e.event_type), ['ACCOUNT_OPENED', 'CANCELLATION']);
  assert.ok(events[0].event_time < DEFAULT_CUTOFF + DAY_MS && events[0].event_time >= DEFAULT_CUTOFF - 30 * DAY_MS);
  assert.equal(events[0].plan, 'month-to-month/no-internet');
});

function bigmlTable(rows: string[]): string {
  const header = 'State,Account length,Area code,International plan,Voice mail plan,Number vmail messages,Total day minutes,Total day calls,Total day charge,Total eve minutes,Total eve calls,Total eve charge,Total night minutes,Total night calls,Total night charge,Total intl minutes,Total intl calls,Total intl charge,Customer service calls,Churn';
  const file = join(mkdtempSync(join(tmpdir(), 'bigml-')), 'table.csv');
  writeFileSync(file, [header, ...rows].join('\n'));
  return file;
}

test('a BigML-layout row becomes its totals: calls and minutes per period, monthly bills of the summed charges, complaints, churn', () => {
  const mapping = loadCustomerMapping(join(MAPPINGS, 'bigml-orange.json'));
  const cutoff = cutoffOf(mapping);
  const file = bigmlTable([
    'KS,128,415,No,Yes,25,265.1,110,45.07,197.4,99,16.78,244.7,91,11.01,10,3,2.7,5,True.',
    'OH,0,415,yes,no,0,0,0,0,0,0,0,0,0,0,0,0,0,0,FALSE',
  ]);
  const { customers, rejects } = readCustomerTable(file, mapping);
  assert.deepEqual(rejects, []);
  const [ks, fresh] = customers.map((c) => mappedCustomerEvents(c, mapping, cutoff));
  assert.equal(customers[0].customerId, 'KS415-1');
  const calls = ks.filter((e) => e.event_type === 'CALL');
  assert.equal(calls.length, 110 + 99 + 91 + 3);
  const seconds = (prefix: string) => calls.filter((e) => e.event_id.includes(`-call-${prefix}-`)).reduce((s, e) => s + e.call_duration_s!, 0);
  assert.equal(seconds('day'), Math.round(265.1 * 60));
  assert.equal(seconds('intl'), 600);
  for (const e of calls) assert.ok(e.event_time >= cutoff - 29 * DAY_MS && e.event_time < cutoff + DAY_MS, 'usage in the 30 days to C');
  const dayCalls = calls.filter((e) => e.event_id.includes('-call-day-'));
  for (const e of dayCalls) assert.ok(new Date(e.event_time).getUTCHours() >= 7 && new Date(e.event_time).getUTCHours() < 19, 'day calls in daytime');
  const bills = ks.filter((e) => e.event_type === 'BILL');
  assert.ok(bills.length >= 4 && bills.length <= 5, `128 days: 5 monthly anniversaries at most (${bills.length})`);
  for (const b of bills) assert.equal(b.amount, 75.56);
  assert.equal(ks.filter((e) => e.event_type === 'COMPLAINT' && e.complaint_category === 'service').length, 5);
  assert.equal(ks.filter((e) => e.event_type === 'CANCELLATION' && e.event_time > cutoff + DAY_MS).length, 1);
  const opened = ks.find((e) => e.event_type === 'ACCOUNT_OPENED')!;
  assert.equal(opened.event_time, cutoff - 128 * DAY_MS + 3_600_000);
  assert.equal(opened.plan, 'intl-no/vm-yes');
  // Joined on C with no usage at all: the open (and the first bill) still give it a history.
  assert.deepEqual(fresh.map((e) => e.event_type), ['ACCOUNT_OPENED', 'BILL', 'PAYMENT']);
  assert.equal(fresh[0].plan, 'intl-yes/vm-no');
  // Deterministic per customer: the same row alone gives the same events.
  assert.deepEqual(mappedCustomerEvents(readCustomerTable(file, mapping).customers[0], mapping, cutoff), ks);
});

test('rows the mapping cannot read are rejected with every reason, the others kept', () => {
  const mapping = loadCustomerMapping(join(MAPPINGS, 'bigml-orange.json'));
  const file = bigmlTable([
    'KS,128,415,No,Yes,25,265.1,110,45.07,197.4,99,16.78,244.7,91,11.01,10,3,2.7,1,False.',
    'NY,-3,510,Maybe,No,0,abc,10,1,1,1,1,1,1,1,1,1,1,1,perhaps',
    'NY,10,510,No,No,0,1,1',
  ]);
  const { customers, rejects } = readCustomerTable(file, mapping);
  assert.equal(customers.length, 1);
  assert.equal(rejects.length, 2);
  assert.equal(rejects[0].row, 2);
  assert.equal(rejects[0].customer_id, 'NY510-2');
  for (const part of ['Account length "-3"', 'International plan "Maybe"', 'Total day minutes "abc"', 'Churn "perhaps"']) assert.match(rejects[0].reason, new RegExp(part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  assert.match(rejects[1].reason, /has 8 fields, the header 20/);
});
