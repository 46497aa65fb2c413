// The IBM Telco Customer Churn table (one row per customer: tenure, services, contract, charges,
// Churn) as BillingEvent streams consistent with each row, relative to a cut-off date C
// (docs/billing-producer.md has the full mapping):
//   - `tenure` monthly BILLs, billed in advance on the same day of the month, the last one covering
//     the month that ends on C; amounts sum to TotalCharges, the last one is MonthlyCharges (the
//     earlier ones share the rest equally, to the cent); each is followed by its PAYMENT;
//   - calls (PhoneService, more with MultipleLines) and data sessions (InternetService, more and
//     bigger with streaming) in the 90 days up to C, sparse (< 1 a customer-day);
//   - Churn=Yes: one CANCELLATION on a day in (C, C+30], the label window of docs/sparkscale.md.
// Everything drawn comes from a seed hashed from customerID, so a row gives the same events on
// every run. Columns with no event representation (gender, SeniorCitizen, Partner, Dependents,
// OnlineSecurity, OnlineBackup, DeviceProtection, TechSupport, PaperlessBilling) are dropped.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { REPO_ROOT } from '../../infra/stack/config.ts';
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { type PaymentMethod, billingEvent, centsToAmount, compactDate } from './billing-events.ts';
import { poisson } from './subscriber-model.ts';

export const TELCO_SHARED_CSV = join(REPO_ROOT, '..', 'shared', 'data', 'telco-churn-ibm', 'Telco-Customer-Churn.csv');
export const TELCO_SAMPLE_CSV = join(REPO_ROOT, 'connectors', 'samples', 'telco-churn-sample.csv');
export const DEFAULT_CUTOFF = Date.UTC(2026, 5, 30);
/** The table's charges are in US dollars. */
export const TELCO_CURRENCY = 'USD';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const USAGE_DAYS = 90;
const LABEL_DAYS = 30;

/** The full table where ../shared holds it, else the bundled sample (first 1,000 rows). */
export function defaultTelcoCsv(): string {
  return existsSync(TELCO_SHARED_CSV) ? TELCO_SHARED_CSV : TELCO_SAMPLE_CSV;
}

export interface TelcoCustomer {
  customerId: string;
  /** Months as a customer at C. */
  tenure: number;
  phoneService: boolean;
  multipleLines: boolean;
  internet: 'dsl' | 'fiber-optic' | 'no-internet';
  streamingTv: boolean;
  streamingMovies: boolean;
  contract: 'month-to-month' | 'one-year' | 'two-year';
  paymentMethod: PaymentMethod;
  monthlyCharges: number;
  /** null for tenure 0 (never billed: the table leaves it blank). */
  totalCharges: number | null;
  churn: boolean;
}

export class TelcoCsvError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TelcoCsvError';
  }
}

const INTERNET: Record<string, TelcoCustomer['internet']> = { DSL: 'dsl', 'Fiber optic': 'fiber-optic', No: 'no-internet' };
const CONTRACT: Record<string, TelcoCustomer['contract']> = { 'Month-to-month': 'month-to-month', 'One year': 'one-year', 'Two year': 'two-year' };
const PAYMENT: Record<string, PaymentMethod> = {
  'Electronic check': 'electronic-check',
  'Mailed check': 'mailed-check',
  'Bank transfer (automatic)': 'bank-transfer-auto',
  'Credit card (automatic)': 'credit-card-auto',
};
const USED_COLUMNS = ['customerID', 'tenure', 'PhoneService', 'MultipleLines', 'InternetService', 'StreamingTV', 'StreamingMovies', 'Contract', 'PaymentMethod', 'MonthlyCharges', 'TotalCharges', 'Churn'];

/** Reads and validates the table (the first `limit` rows when given). */
export function readTelcoCsv(path: string, limit = Infinity): TelcoCustomer[] {
  const records = parse(readFileSync(path), { columns: true, skip_empty_lines: true, trim: true, ...(Number.isFinite(limit) ? { to: limit } : {}) }) as Record<string, string>[];
  if (records.length === 0) throw new TelcoCsvError(`${path}: no rows`);
  const missing = USED_COLUMNS.filter((c) => !(c in records[0]));
  if (missing.length) throw new TelcoCsvError(`${path}: missing column(s) ${missing.join(', ')}`);
  return records.map((r, i) => parseTelcoRow(r, `${path}:${i + 2}`));
}

export function parseTelcoRow(r: Record<string, string>, where: string): TelcoCustomer {
  const fail = (msg: string): never => {
    throw new TelcoCsvError(`${where}: ${msg}`);
  };
  const oneOf = <T>(column: string, table: Record<string, T>): T => (Object.hasOwn(table, r[column]) ? table[r[column]] : fail(`${column} ${JSON.stringify(r[column])} is not one of ${Object.keys(table).join(' | ')}`));
  const yes = (column: string, noValues: string[] = []) => (r[column] === 'Yes' ? true : r[column] === 'No' || noValues.includes(r[column]) ? false : fail(`${column} ${JSON.stringify(r[column])} is not Yes/No`));
  const money = (column: string) => {
    const v = Number(r[column]);
    return r[column] !== '' && Number.isFinite(v) && v >= 0 ? v : fail(`${column} ${JSON.stringify(r[column])} is not an amount`);
  };
  if (!r.customerID) fail('customerID is empty');
  const tenure = Number(r.tenure);
  if (!Number.isInteger(tenure) || tenure < 0) fail(`tenure ${JSON.stringify(r.tenure)} is not a whole number of months`);
  const totalCharges = r.TotalCharges === '' ? null : money('TotalCharges');
  if (totalCharges === null && tenure > 0) fail(`TotalCharges is blank but tenure is ${tenure}`);
  return {
    customerId: r.customerID,
    tenure,
    phoneService: yes('PhoneService'),
    multipleLines: yes('MultipleLines', ['No phone service']),
    internet: oneOf('InternetService', INTERNET),
    streamingTv: yes('StreamingTV', ['No internet service']),
    streamingMovies: yes('StreamingMovies', ['No internet service']),
    contract: oneOf('Contract', CONTRACT),
    paymentMethod: oneOf('PaymentMethod', PAYMENT),
    monthlyCharges: money('MonthlyCharges'),
    totalCharges: tenure === 0 ? null : totalCharges,
    churn: yes('Churn'),
  };
}

/** `month-to-month/fiber-optic`: the contract and the internet service, the two tariff columns. */
export function telcoPlan(c: TelcoCustomer): string {
  return `${c.contract}/${c.internet}`;
}

/**
 * Bill amounts in cents, oldest first: `tenure` of them summing to TotalCharges, the last equal to
 * MonthlyCharges, the others sharing the rest equally (the first ones take the leftover cents).
 */
export function billCents(c: TelcoCustomer): number[] {
  if (c.tenure === 0 || c.totalCharges === null) return [];
  return splitBillCents(c.tenure, Math.round(c.totalCharges * 100), Math.round(c.monthlyCharges * 100));
}

/** `bills` amounts in cents summing to `totalCents`, the last `lastCents` (billCents' rule, for any table). */
export function splitBillCents(bills: number, totalCents: number, lastCents: number): number[] {
  if (bills === 0) return [];
  if (bills === 1) return [totalCents]; // the table's total wins if it ever differs from the monthly charge
  const rest = totalCents - lastCents;
  const each = Math.floor(rest / (bills - 1));
  const leftover = rest - each * (bills - 1);
  return [...Array.from({ length: bills - 1 }, (_, k) => each + (k < leftover ? 1 : 0)), lastCents];
}

/** FNV-1a of the id, mixed: the seed of everything drawn for one customer. */
export function customerSeed(customerId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < customerId.length; i++) h = Math.imul(h ^ customerId.charCodeAt(i), 0x01000193);
  return mixSeed(h >>> 0, 0x7e1c0);
}

/** `day` (epoch ms at 00:00 UTC) moved by `months`, the day of the month clamped to the month's length. */
export function addMonths(day: number, months: number): number {
  const d = new Date(day);
  const first = Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months, 1);
  const length = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + months + 1, 0)).getUTCDate();
  return first + (Math.min(d.getUTCDate(), length) - 1) * DAY_MS;
}

// Usage rates per day and volumes: sparse on purpose (the whole table stays under ~600k events).
const CALLS_PER_DAY = { single: 0.15, multiple: 0.3 };
const SESSIONS_PER_DAY: Record<TelcoCustomer['internet'], number> = { dsl: 0.18, 'fiber-optic': 0.28, 'no-internet': 0 };
const SESSIONS_PER_STREAMING_SERVICE = 0.05;
const SESSION_MEDIAN_MB: Record<TelcoCustomer['internet'], number> = { dsl: 80, 'fiber-optic': 250, 'no-internet': 0 };
const STREAMING_VOLUME_FACTOR = 1.4;
const CALL_MEDIAN_S = 90;

/** Stream tags: each kind of draw of a customer has its own seeded stream. */
export const STREAM = { bill: 1, payment: 2, callCount: 3, call: 4, dataCount: 5, data: 6, cancel: 7, joined: 8 } as const;

/**
 * What an event is, before it becomes a BillingEvent: `n` numbers it among its customer's events
 * of that type (bill/payment number, usage index within the day); `value` is cents, seconds or MB.
 */
type EmitEvent = (time: number, type: TelcoEventType, n: number, value: number) => void;
type TelcoEventType = 'BILL' | 'PAYMENT' | 'CALL' | 'DATA_SESSION' | 'CANCELLATION';
const TELCO_EVENT_TYPES: readonly TelcoEventType[] = ['BILL', 'PAYMENT', 'CALL', 'DATA_SESSION', 'CANCELLATION'];

/** Draws one customer's events (in no particular order) as `emit` calls. `cutoff` is C, epoch ms at 00:00 UTC. */
function drawCustomer(c: TelcoCustomer, cutoff: number, emit: EmitEvent): void {
  const seed = customerSeed(c.customerId);
  // Bills in advance, on the day of the month after C's: with C = 30 June, bills on the 1st, the
  // last one (1 June) for June. Payments follow within 12 days, so all fall before C.
  const bills = billCents(c);
  const autoPay = c.paymentMethod.endsWith('-auto');
  bills.forEach((cents, k) => {
    const billDay = addMonths(cutoff + DAY_MS, k - bills.length);
    emit(billDay + 2 * HOUR_MS + Math.floor(new Rng(mixSeed(seed, STREAM.bill, k)).uniform() * 2 * HOUR_MS), 'BILL', k, cents);
    const r = new Rng(mixSeed(seed, STREAM.payment, k));
    const delayDays = autoPay ? 1 : 2 + Math.floor(r.uniform() * 11);
    emit(billDay + delayDays * DAY_MS + 7 * HOUR_MS + Math.floor(r.uniform() * 12 * HOUR_MS), 'PAYMENT', k, cents);
  });
  // Usage from the later of joining and C - 89 days, through C. A tenure-0 customer joined in the last 30 days.
  const joined = bills.length ? addMonths(cutoff + DAY_MS, -bills.length) : cutoff - Math.floor(new Rng(mixSeed(seed, STREAM.joined)).uniform() * 30) * DAY_MS;
  const callsPerDay = c.phoneService ? (c.multipleLines ? CALLS_PER_DAY.multiple : CALLS_PER_DAY.single) : 0;
  const streaming = (c.streamingTv ? 1 : 0) + (c.streamingMovies ? 1 : 0);
  const sessionsPerDay = c.internet === 'no-internet' ? 0 : SESSIONS_PER_DAY[c.internet] + SESSIONS_PER_STREAMING_SERVICE * streaming;
  const sessionMedianMb = SESSION_MEDIAN_MB[c.internet] * STREAMING_VOLUME_FACTOR ** streaming;
  for (let day = Math.max(joined, cutoff - (USAGE_DAYS - 1) * DAY_MS); day <= cutoff; day += DAY_MS) {
    const dayIndex = day / DAY_MS;
    const calls = countFor(callsPerDay, mixSeed(seed, STREAM.callCount, dayIndex));
    for (let j = 0; j < calls; j++) {
      const r = new Rng(mixSeed(seed, STREAM.call, dayIndex, j));
      emit(day + wakingHoursMs(r), 'CALL', j, Math.max(1, Math.round(CALL_MEDIAN_S * Math.exp(r.normal()))));
    }
    const sessions = countFor(sessionsPerDay, mixSeed(seed, STREAM.dataCount, dayIndex));
    for (let j = 0; j < sessions; j++) {
      const r = new Rng(mixSeed(seed, STREAM.data, dayIndex, j));
      emit(day + wakingHoursMs(r), 'DATA_SESSION', j, Math.round(sessionMedianMb * Math.exp(r.normal()) * 100) / 100);
    }
  }
  if (c.churn) {
    const r = new Rng(mixSeed(seed, STREAM.cancel));
    const day = cutoff + (1 + Math.floor(r.uniform() * LABEL_DAYS)) * DAY_MS;
    emit(day + 9 * HOUR_MS + Math.floor(r.uniform() * 10 * HOUR_MS), 'CANCELLATION', 0, 0);
  }
}

/** The BillingEvent for one drawn event; ids are `telco-<customerID>-<bill-3 | payment-3 | call-20260611-0 | data-... | cancel>`. */
function toBillingEvent(c: TelcoCustomer, time: number, type: TelcoEventType, n: number, value: number): BillingEvent {
  const suffix =
    type === 'BILL' ? `bill-${n + 1}`
    : type === 'PAYMENT' ? `payment-${n + 1}`
    : type === 'CALL' ? `call-${compactDate(time)}-${n}`
    : type === 'DATA_SESSION' ? `data-${compactDate(time)}-${n}`
    : 'cancel';
  const e = billingEvent(`telco-${c.customerId}-${suffix}`, c.customerId, time, type);
  if (type === 'BILL' || type === 'PAYMENT') {
    e.amount = centsToAmount(value);
    e.currency = TELCO_CURRENCY;
    e.payment_method = c.paymentMethod;
  }
  if (type === 'BILL' || type === 'PAYMENT' || type === 'CANCELLATION') e.plan = telcoPlan(c);
  if (type === 'CALL') e.call_duration_s = value;
  if (type === 'DATA_SESSION') e.data_mb = value;
  return e;
}

export function checkCutoff(cutoff: number): void {
  if (!Number.isFinite(cutoff) || cutoff % DAY_MS !== 0) throw new Error(`cutoff must be a date (epoch ms at 00:00 UTC), got ${cutoff}`);
}

/** One customer's events, in event-time order (at equal times a bill stays before its payment). */
export function customerEvents(c: TelcoCustomer, cutoff = DEFAULT_CUTOFF): BillingEvent[] {
  checkCutoff(cutoff);
  const events: BillingEvent[] = [];
  drawCustomer(c, cutoff, (time, type, n, value) => events.push(toBillingEvent(c, time, type, n, value)));
  return events.sort((a, b) => a.event_time - b.event_time);
}

export function countFor(perDay: number, hash: number): number {
  return perDay === 0 ? 0 : poisson(perDay, hash / 4294967296);
}

/** 07:00-23:00: when people call and browse. */
export function wakingHoursMs(r: Rng): number {
  return 7 * HOUR_MS + Math.floor(r.uniform() * 16 * HOUR_MS);
}

/**
 * Every customer's events in one event-time order (ties: table order, then draw order). The sort
 * runs over compact columns (five numbers an event, ~25 MB for the whole table); BillingEvent
 * objects are made only as they are yielded.
 */
export function* telcoEvents(customers: readonly TelcoCustomer[], cutoff = DEFAULT_CUTOFF): Generator<BillingEvent> {
  checkCutoff(cutoff);
  const times: number[] = [];
  const owners: number[] = [];
  const types: number[] = [];
  const numbers: number[] = [];
  const values: number[] = [];
  customers.forEach((c, ci) =>
    drawCustomer(c, cutoff, (time, type, n, value) => {
      times.push(time);
      owners.push(ci);
      types.push(TELCO_EVENT_TYPES.indexOf(type));
      numbers.push(n);
      values.push(value);
    }),
  );
  const order = Uint32Array.from(times, (_, i) => i).sort((a, b) => times[a] - times[b] || owners[a] - owners[b] || a - b);
  for (const i of order) yield toBillingEvent(customers[owners[i]], times[i], TELCO_EVENT_TYPES[types[i]], numbers[i], values[i]);
}
