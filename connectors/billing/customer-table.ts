// A mapped customer table (customer-rows.ts) as BillingEvent histories, relative to a cut-off C,
// generalising the IBM Telco generator (telco-events.ts) to any mapping:
//   - ACCOUNT_OPENED at the join date (mapping option, default on): a customer with no bill and no
//     usage yet still has a history, so the daily scoring sees (and scores) them;
//   - monthly BILLs in advance and their PAYMENTs, as in telco-events.ts: tenure in months ends the
//     last bill on C; tenure in days bills on each monthly anniversary of the join date up to C;
//   - usage in the window (usage.window_days up to C, from the join date at the latest): `rates`
//     draw calls / sessions day by day exactly as the Telco generator does, `totals` spread a
//     row's calls (and minutes, or MB) over the window in the period's hours;
//   - complaints: that many COMPLAINTs in the window; churn: one CANCELLATION in (C, C+30].
// Every draw is seeded from the customer id (customerSeed), so a row gives the same events on every
// run, and with the ibm-telco mapping exactly the events of telcoEvents (plus ACCOUNT_OPENED).
import type { BillingEvent, BillingEventType } from '../../schemas/generated/types.ts';
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { billingEvent, centsToAmount, compactDate } from './billing-events.ts';
import type { CustomerMapping, UsagePeriod } from './customer-mapping.ts';
import type { MappedCustomer } from './customer-rows.ts';
import { STREAM, addMonths, checkCutoff, countFor, customerSeed, splitBillCents, wakingHoursMs } from './telco-events.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const LABEL_DAYS = 30;
/** Days before C a months-tenure customer with tenure 0 may have joined (as in telco-events.ts). */
const NEW_CUSTOMER_DAYS = 30;
/** Streams of the draws telco-events.ts does not have (its own are 1-8). */
const MORE_STREAMS = { complaint: 9, totals: 16 } as const;
/** Start hour and length in hours of each usage period (UTC). */
const PERIOD_HOURS: Record<UsagePeriod, [number, number]> = { day: [7, 12], evening: [19, 4], night: [0, 7], intl: [7, 16], any: [7, 16] };
/** When a total gives calls but no minutes (or sessions but no MB): the mean per event (exponentially spread). */
const DEFAULT_CALL_S = 90;
const DEFAULT_SESSION_MB = 80;

/** A drawn event: its type, the id suffix after `<prefix>-<customer>-`, and its value (cents, seconds or MB). */
type Emit = (time: number, type: BillingEventType, suffix: string, value: number) => void;

/** The join date (00:00 UTC) and the bills (day, cents), oldest first. */
function accountDates(c: MappedCustomer, m: CustomerMapping, cutoff: number, seed: number): { joined: number; bills: { day: number; cents: number }[] } {
  if (m.tenure.unit === 'days') {
    const joined = cutoff - c.tenure * DAY_MS;
    const bills = [];
    for (let k = 0, day = joined; day <= cutoff; day = addMonths(joined, ++k)) bills.push({ day, cents: c.monthlyCents });
    return { joined, bills };
  }
  // Months: billed in advance on the day of the month after C's, the last bill covering the month to C.
  const n = c.tenure;
  const cents = c.totalCents !== null ? splitBillCents(n, c.totalCents, c.monthlyCents) : Array<number>(n).fill(c.monthlyCents);
  const bills = cents.map((v, k) => ({ day: addMonths(cutoff + DAY_MS, k - n), cents: v }));
  const joined = n ? addMonths(cutoff + DAY_MS, -n) : cutoff - Math.floor(new Rng(mixSeed(seed, STREAM.joined)).uniform() * NEW_CUSTOMER_DAYS) * DAY_MS;
  return { joined, bills };
}

/** `total` (in whole units) shared over `weights` by largest remainder, so the parts add up exactly. */
function shareTotal(total: number, weights: number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const exact = weights.map((w) => (sum > 0 ? (total * w) / sum : total / weights.length));
  const parts = exact.map(Math.floor);
  const order = exact.map((x, i) => i).sort((a, b) => exact[b] - parts[b] - (exact[a] - parts[a]) || a - b);
  for (let left = total - parts.reduce((a, b) => a + b, 0), k = 0; left > 0; left--, k++) parts[order[k % order.length]]++;
  return parts;
}

/** Draws one customer's events (in no particular order, ties kept in draw order) as `emit` calls. */
function drawCustomer(c: MappedCustomer, m: CustomerMapping, cutoff: number, emit: Emit): void {
  const seed = customerSeed(c.customerId);
  const { joined, bills } = accountDates(c, m, cutoff, seed);
  if (m.account_opened !== false) emit(joined + HOUR_MS, 'ACCOUNT_OPENED', 'opened', 0);
  const autoPay = c.paymentMethod?.endsWith('-auto') ?? false;
  bills.forEach(({ day, cents }, k) => {
    emit(day + 2 * HOUR_MS + Math.floor(new Rng(mixSeed(seed, STREAM.bill, k)).uniform() * 2 * HOUR_MS), 'BILL', `bill-${k + 1}`, cents);
    const r = new Rng(mixSeed(seed, STREAM.payment, k));
    const delayDays = autoPay ? 1 : 2 + Math.floor(r.uniform() * 11);
    emit(day + delayDays * DAY_MS + 7 * HOUR_MS + Math.floor(r.uniform() * 12 * HOUR_MS), 'PAYMENT', `payment-${k + 1}`, cents);
  });
  const first = Math.max(joined, cutoff - (m.usage.window_days - 1) * DAY_MS);
  const days = (cutoff - first) / DAY_MS + 1;
  const rates = m.usage.rates ?? [];
  if (rates.length) {
    for (let day = first; day <= cutoff; day += DAY_MS) {
      const dayIndex = day / DAY_MS;
      rates.forEach((u, i) => {
        const isCall = u.event === 'CALL';
        const { perDay, median } = c.rates[i];
        const n = countFor(perDay, mixSeed(seed, isCall ? STREAM.callCount : STREAM.dataCount, dayIndex));
        for (let j = 0; j < n; j++) {
          const r = new Rng(mixSeed(seed, isCall ? STREAM.call : STREAM.data, dayIndex, j));
          const time = day + wakingHoursMs(r);
          const drawn = median * Math.exp(r.normal());
          emit(time, u.event, `${isCall ? 'call' : 'data'}-${compactDate(time)}-${j}`, isCall ? Math.max(1, Math.round(drawn)) : Math.round(drawn * 100) / 100);
        }
      });
    }
  }
  (m.usage.totals ?? []).forEach((u, i) => {
    const { count, amount } = c.totals[i];
    if (count === 0) return;
    const isCall = u.event === 'CALL';
    const [startHour, hours] = PERIOD_HOURS[u.period];
    const draws = Array.from({ length: count }, (_, j) => new Rng(mixSeed(seed, MORE_STREAMS.totals + i, j)));
    const times = draws.map((r) => first + Math.floor(r.uniform() * days) * DAY_MS + startHour * HOUR_MS + Math.floor(r.uniform() * hours * HOUR_MS));
    const weights = draws.map((r) => r.exponential(1));
    // Minutes -> whole seconds, MB -> hundredths, shared so the row's total is kept exactly.
    const scale = isCall ? 60 : 100;
    const parts = amount === null ? weights.map((w) => (isCall ? DEFAULT_CALL_S : DEFAULT_SESSION_MB * 100) * w) : shareTotal(Math.round(amount * scale), weights);
    times.forEach((t, j) => emit(t, u.event, `${isCall ? 'call' : 'data'}-${u.period}-${j}`, isCall ? Math.round(parts[j]) : Math.round(parts[j]) / 100));
  });
  for (let j = 0; j < c.complaints; j++) {
    const r = new Rng(mixSeed(seed, MORE_STREAMS.complaint, j));
    emit(first + Math.floor(r.uniform() * days) * DAY_MS + 9 * HOUR_MS + Math.floor(r.uniform() * 10 * HOUR_MS), 'COMPLAINT', `complaint-${j + 1}`, 0);
  }
  if (c.churn) {
    const r = new Rng(mixSeed(seed, STREAM.cancel));
    const day = cutoff + (1 + Math.floor(r.uniform() * LABEL_DAYS)) * DAY_MS;
    emit(day + 9 * HOUR_MS + Math.floor(r.uniform() * 10 * HOUR_MS), 'CANCELLATION', 'cancel', 0);
  }
}

function toBillingEvent(c: MappedCustomer, m: CustomerMapping, time: number, type: BillingEventType, suffix: string, value: number): BillingEvent {
  const e = billingEvent(`${m.event_id_prefix}-${c.customerId}-${suffix}`, c.customerId, time, type);
  if (type === 'BILL' || type === 'PAYMENT') {
    e.amount = centsToAmount(value);
    e.currency = m.currency;
    e.payment_method = c.paymentMethod;
  }
  if (type === 'ACCOUNT_OPENED') e.payment_method = c.paymentMethod;
  if (type === 'BILL' || type === 'PAYMENT' || type === 'CANCELLATION' || type === 'ACCOUNT_OPENED') e.plan = c.plan;
  if (type === 'CALL') e.call_duration_s = value;
  if (type === 'DATA_SESSION') e.data_mb = value;
  if (type === 'COMPLAINT') e.complaint_category = m.complaints?.category ?? null;
  return e;
}

/** One customer's events in event-time order. */
export function mappedCustomerEvents(c: MappedCustomer, m: CustomerMapping, cutoff: number): BillingEvent[] {
  checkCutoff(cutoff);
  const events: BillingEvent[] = [];
  drawCustomer(c, m, cutoff, (time, type, suffix, value) => events.push(toBillingEvent(c, m, time, type, suffix, value)));
  return events.sort((a, b) => a.event_time - b.event_time);
}

/** Every customer's events in one event-time order (ties: table order, then draw order), as telcoEvents orders them. */
export function* customerTableEvents(customers: readonly MappedCustomer[], m: CustomerMapping, cutoff: number): Generator<BillingEvent> {
  checkCutoff(cutoff);
  const drawn: { time: number; owner: number; type: BillingEventType; suffix: string; value: number }[] = [];
  customers.forEach((c, owner) => drawCustomer(c, m, cutoff, (time, type, suffix, value) => drawn.push({ time, owner, type, suffix, value })));
  const order = Uint32Array.from(drawn, (_, i) => i).sort((a, b) => drawn[a].time - drawn[b].time || drawn[a].owner - drawn[b].owner || a - b);
  for (const i of order) {
    const d = drawn[i];
    yield toBillingEvent(customers[d.owner], m, d.time, d.type, d.suffix, d.value);
  }
}
