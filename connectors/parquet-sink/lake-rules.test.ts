import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadSchema, TOPICS } from '../../schemas/topics.ts';
import { DATE_PARTITION_NAME, datePartition } from './lake-files.ts';
import { LAKE_TIME_RANGE, billingEventRules, checkRecord, finiteNumbersRule, floatingFields, timeRangeRule, type LakeRule } from './lake-rules.ts';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 5, 12);
const ctx = { recordTimestamp: NOW - 60_000, now: NOW };
const schema = loadSchema(TOPICS.billingEvents.schema);
const rules: LakeRule[] = [timeRangeRule('event_time'), finiteNumbersRule(floatingFields(schema)), ...billingEventRules];

function event(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    event_id: 'telco-7590-VHVEG-bill-3', user_id: '7590-VHVEG', event_time: Date.UTC(2026, 5, 30, 9), event_type: 'BILL',
    call_duration_s: null, data_mb: null, amount: 29.85, currency: 'USD', plan: 'month-to-month/dsl', complaint_category: null,
    late_payment: false, payment_method: 'electronic-check', ...patch,
  };
}

test('real billing data passes: Telco histories years back, synthetic days, a cancellation 30 days ahead', () => {
  for (const t of [Date.UTC(2020, 6, 1), Date.UTC(2000, 0, 1), Date.UTC(2026, 3, 1), ctx.recordTimestamp + 30 * DAY]) {
    assert.equal(checkRecord(rules, event({ event_time: t }), ctx), null, new Date(t).toISOString());
  }
  assert.equal(checkRecord(rules, event({ event_type: 'CALL', amount: null, currency: null, call_duration_s: 0 }), ctx), null);
  assert.equal(checkRecord(rules, event({ amount: -12.5 }), ctx), null, 'credits and refunds are negative amounts');
});

test('absurd event times are rejected with the accepted range in the reason', () => {
  const cases: [string, number][] = [
    ['year -1199', Date.UTC(-1199, 1, 3)],
    ['year 10000', Date.UTC(10000, 0, 1)],
    ['beyond the Date range', 8.64e15 + 1],
    ['1969', Date.UTC(1969, 11, 31)],
    ['seconds read as ms', Math.floor(Date.UTC(2026, 5, 30) / 1000)],
    ['now + 10 years', NOW + 3653 * DAY],
    ['just past the lead', ctx.recordTimestamp + LAKE_TIME_RANGE.maxLeadMs + 1],
  ];
  for (const [what, t] of cases) {
    const problem = checkRecord(rules, event({ event_time: t }), ctx);
    assert.match(problem ?? '', /^event_time -?\d+(e\+\d+)? \(.+\) is outside the lake's accepted range \[2000-01-01T00:00:00\.000Z, 2027-01-05T11:59:00\.000Z\]/, what);
  }
  assert.equal(checkRecord(rules, event({ event_time: Number.NaN }), ctx), 'event_time is NaN, not a timestamp');
  assert.equal(checkRecord(rules, event({ event_time: null }), ctx), 'event_time is null, not a timestamp');
});

test('the lead counts from the produce time, capped at the sink clock; a missing record timestamp uses the clock', () => {
  const t = NOW + 20 * DAY;
  assert.equal(checkRecord(rules, event({ event_time: t }), { recordTimestamp: NOW + 365 * DAY, now: NOW }), null);
  assert.notEqual(checkRecord(rules, event({ event_time: t }), { recordTimestamp: NOW - 15 * DAY, now: NOW }), null);
  assert.equal(checkRecord(rules, event({ event_time: t }), { recordTimestamp: -1, now: NOW }), null);
});

test('NaN and Infinity in any double field, negative usage, bad currency and bad ids are named', () => {
  assert.deepEqual(floatingFields(schema), ['call_duration_s', 'data_mb', 'amount']);
  assert.equal(checkRecord(rules, event({ amount: Number.NaN }), ctx), 'amount is NaN, not a finite number');
  assert.equal(checkRecord(rules, event({ event_type: 'CALL', amount: null, currency: null, call_duration_s: Number.POSITIVE_INFINITY }), ctx), 'call_duration_s is Infinity, not a finite number');
  assert.equal(checkRecord(rules, event({ event_type: 'DATA_SESSION', amount: null, currency: null, data_mb: -3 }), ctx), 'data_mb is -3, below 0');
  assert.equal(checkRecord(rules, event({ currency: 'euro' }), ctx), 'currency "euro" is not an ISO 4217 code (three capital letters)');
  assert.equal(checkRecord(rules, event({ currency: null }), ctx), 'amount is set without a currency');
  assert.equal(checkRecord(rules, event({ event_id: '' }), ctx), 'event_id is empty');
  assert.equal(checkRecord(rules, event({ event_id: 'e'.repeat(200_000) }), ctx), 'event_id has 200000 characters (at most 128)');
  assert.equal(checkRecord(rules, event({ user_id: '7590-VHVEG\n' }), ctx), 'user_id "7590-VHVEG\\n" has a control character');
  assert.equal(checkRecord(rules, event({ user_id: ' 7590-VHVEG' }), ctx), 'user_id " 7590-VHVEG" has leading or trailing spaces');
  // Every broken rule is in the reason, not only the first.
  assert.equal(checkRecord(rules, event({ amount: Number.NaN, event_time: Date.UTC(1969, 0, 1) }), ctx)!.split('; ').length, 2);
});

test('a rule that throws is that record\'s problem, not an exception', () => {
  const broken: LakeRule = () => {
    throw new TypeError('boom');
  };
  assert.equal(checkRecord([broken], event(), ctx), 'a lake rule failed on this record: boom');
});

test('date partition names are event_date=YYYY-MM-DD or null, never another shape and never an exception', () => {
  assert.equal(datePartition(Date.UTC(2026, 5, 30, 23, 59, 59, 999)), 'event_date=2026-06-30');
  const inYear = (y: number) => new Date(0).setUTCFullYear(y, 0, 1); // Date.UTC(1, ...) means 1901
  assert.equal(datePartition(inYear(1)), 'event_date=0001-01-01');
  assert.equal(datePartition(Date.UTC(9999, 11, 31, 23)), 'event_date=9999-12-31');
  for (const t of [Date.UTC(-1199, 1, 3), Date.UTC(10000, 0, 1), inYear(0), 8.64e15 + 1, -8.64e15 - 1, Number.NaN, Infinity, -Infinity]) {
    assert.equal(datePartition(t), null, String(t));
  }
  // A sweep over the whole Date range and beyond: every name has the one shape.
  for (let t = -9e15; t <= 9e15; t += 1.37e13) {
    const name = datePartition(t);
    if (name !== null) assert.match(name, DATE_PARTITION_NAME);
  }
});
