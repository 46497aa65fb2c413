// Synthetic telecom subscribers as a lazy stream of BillingEvents (the behaviour model is in
// subscriber-model.ts, the prose in docs/billing-producer.md). Simulated time advances a day at a
// time and, inside a day, an hour at a time: each hour's calls, data sessions and SMS are drawn for
// every subscriber, merged with the day's bills, payments, complaints, plan changes and
// cancellations that fall in that hour, sorted by event time, and yielded. Memory is the per-
// subscriber state (~70 bytes each) plus one hour of events as typed columns, so millions of
// subscribers x months stream in memory proportional to the subscribers, and the first events of
// a million-subscriber day come out after two passes over the subscribers (their day-level
// decisions, then the first hour), not after the whole day.
//
// Measured on this 2-core machine (docs/billing-producer.md): ~0.9-1.0 M events/s (100,000
// subscribers x 90 days = 35 M events in 38 s, ~3.9 events a subscriber-day), so 1 M subscribers
// x 90 days (~350 M events) take about 6-7 minutes to generate.
import type { BillingEvent } from '../../schemas/generated/types.ts';
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { PAYMENT_METHODS, billingEvent, centsToAmount, compactDate } from './billing-events.ts';
import { BILL, CALL, CANCELLATION, COMPLAINT, DATA_SESSION, EVENT_TYPES, EventBuffer, PAYMENT, PLAN_CHANGE, SMS } from './event-buffer.ts';
import { COMPLAINT_CATEGORIES, DAY_MS, HOUR_MS, LATE_FLAG, PLANS, Subscribers, beginDay, initSubscriber, poisson } from './subscriber-model.ts';

export interface SubscriberSimulatorOptions {
  /** Number of subscribers (default 10,000); ids are `sub-00000001`, ... */
  users: number;
  /** Days to simulate (default 90). */
  days: number;
  /** First simulated day, epoch ms at 00:00 UTC (default 2026-04-01). */
  start: number;
  seed: number;
  /** ISO 4217 code of bill and payment amounts (default EUR). */
  currency: string;
}

export const DEFAULT_SUBSCRIBER_OPTIONS: SubscriberSimulatorOptions = {
  users: 10_000,
  days: 90,
  start: Date.UTC(2026, 3, 1),
  seed: 1,
  currency: 'EUR',
};

// Share of a type's daily usage in each hour (UTC), x 24: calls and SMS follow the working day,
// data peaks in the evening.
const VOICE_BY_HOUR = perHour([0.15, 0.08, 0.05, 0.04, 0.05, 0.15, 0.4, 0.8, 1.2, 1.4, 1.5, 1.5, 1.5, 1.45, 1.4, 1.4, 1.45, 1.5, 1.5, 1.4, 1.2, 0.9, 0.6, 0.3]);
const DATA_BY_HOUR = perHour([0.5, 0.3, 0.2, 0.15, 0.15, 0.25, 0.5, 0.9, 1.1, 1.1, 1.0, 1.0, 1.1, 1.1, 1.0, 1.0, 1.1, 1.2, 1.4, 1.6, 1.8, 1.8, 1.5, 1.0]);
/** Weekends: fewer calls and SMS, more data. Index: 0 weekday, 1 weekend. */
const WEEKEND_VOICE = [1, 0.8];
const WEEKEND_DATA = [1, 1.15];
/** Data sessions a day; a session's volume is the day's data over this. */
const DATA_SESSIONS_PER_DAY = 2;
/** Median call 90 s; lognormal spread gives a mean of ~2.5 min and a long tail of long calls. */
const CALL_MEDIAN_S = 90;
const CALL_SIGMA = 1.0;
const DATA_SIGMA = 1.0;
/** Tag of the per-hour count draw, apart from the hour's event stream. */
const HOUR_COUNT_STREAM = 0;
const HOUR_EVENT_STREAM = 1;

function perHour(weights: number[]): Float64Array {
  const mean = weights.reduce((a, b) => a + b, 0) / weights.length;
  return Float64Array.from(weights, (w) => w / mean / 24);
}

export function subscriberId(index: number): string {
  return `sub-${String(index + 1).padStart(8, '0')}`;
}

export function checkSubscriberOptions(o: SubscriberSimulatorOptions): string[] {
  const problems: string[] = [];
  if (!Number.isInteger(o.users) || o.users < 1 || o.users > 99_999_999) problems.push(`users must be an integer in 1..99999999, got ${o.users}`);
  if (!Number.isInteger(o.days) || o.days < 1) problems.push(`days must be a positive integer, got ${o.days}`);
  if (!Number.isFinite(o.start) || o.start % DAY_MS !== 0) problems.push(`start must be epoch ms at 00:00 UTC, got ${o.start}`);
  if (!Number.isInteger(o.seed)) problems.push(`seed must be an integer, got ${o.seed}`);
  if (!/^[A-Z]{3}$/.test(o.currency)) problems.push(`currency must be an ISO 4217 code, got ${o.currency}`);
  return problems;
}

/**
 * BillingEvents of `users` subscribers over `days` days, in event-time order, drawn lazily hour by
 * hour. Same options, same events (ids included); subscriber k is the same however many run.
 */
export function* subscriberEvents(options: Partial<SubscriberSimulatorOptions> = {}): Generator<BillingEvent> {
  const o = { ...DEFAULT_SUBSCRIBER_OPTIONS, ...options };
  const problems = checkSubscriberOptions(o);
  if (problems.length) throw new Error(`subscriber simulator: ${problems.join('; ')}`);
  const firstDay = o.start / DAY_MS;
  const subscribers = new Subscribers(o.users);
  for (let u = 0; u < o.users; u++) initSubscriber(subscribers, u, o.seed, firstDay);
  const dayEvents = new EventBuffer(Math.max(1024, o.users >> 3));
  const hourEvents = new EventBuffer(Math.max(1024, o.users >> 2));
  for (let day = firstDay; day < firstDay + o.days; day++) {
    dayEvents.clear();
    for (let u = 0; u < o.users; u++) if (subscribers.activeOn(u, day)) beginDay(subscribers, u, o.seed, day, dayEvents);
    const dayOrder = dayEvents.sortedPositions();
    let nextDayEvent = 0;
    const weekend = (day + 4) % 7 >= 5 ? 1 : 0; // epoch day 0 was a Thursday: 5 = Saturday, 6 = Sunday
    const namer = eventNamer(o.seed, day);
    for (let hour = 0; hour < 24; hour++) {
      hourEvents.clear();
      drawUsage(subscribers, o.seed, day, hour, weekend, hourEvents);
      const hourEnd = (hour + 1) * HOUR_MS;
      while (nextDayEvent < dayOrder.length && dayEvents.msOfDay[dayOrder[nextDayEvent]] < hourEnd) hourEvents.copyFrom(dayEvents, dayOrder[nextDayEvent++]);
      const order = hourEvents.sortedPositions();
      for (let k = 0; k < order.length; k++) yield toBillingEvent(hourEvents, order[k], day, hour, o.currency, subscribers, namer);
    }
  }
}

/** Calls, data sessions and SMS of every active subscriber in one hour, into `out`. */
function drawUsage(s: Subscribers, seed: number, day: number, hour: number, weekend: number, out: EventBuffer): void {
  const hourStart = hour * HOUR_MS;
  const voice = VOICE_BY_HOUR[hour] * WEEKEND_VOICE[weekend];
  const data = DATA_BY_HOUR[hour] * WEEKEND_DATA[weekend];
  for (let u = 0; u < s.count; u++) {
    if (!s.activeOn(u, day)) continue;
    const cancelMs = s.cancelMsOfDay[u];
    if (cancelMs <= hourStart) continue;
    const factor = s.usageFactor[u];
    const calls = s.callsPerDay[u] * voice * factor;
    const sms = s.smsPerDay[u] * voice * factor;
    const sessions = DATA_SESSIONS_PER_DAY * data * factor;
    // Most subscriber-hours are empty: one hashed uniform decides the count, and a stream is only
    // made for the hours that have events.
    const n = poisson(calls + sms + sessions, mixSeed(seed, u, day, hour, HOUR_COUNT_STREAM) / 4294967296);
    if (n === 0) continue;
    const rng = new Rng(mixSeed(seed, u, day, hour, HOUR_EVENT_STREAM));
    for (let i = 0; i < n; i++) {
      const ms = hourStart + Math.floor(rng.uniform() * HOUR_MS);
      const which = rng.uniform() * (calls + sms + sessions);
      let type: number;
      let value = 0;
      if (which < calls) {
        type = CALL;
        value = Math.max(1, Math.round(CALL_MEDIAN_S * Math.exp(CALL_SIGMA * rng.normal())));
      } else if (which < calls + sms) {
        type = SMS;
      } else {
        type = DATA_SESSION;
        const meanMb = s.dataMbPerDay[u] / DATA_SESSIONS_PER_DAY;
        value = Math.round(meanMb * Math.exp(DATA_SIGMA * rng.normal() - (DATA_SIGMA * DATA_SIGMA) / 2) * 100) / 100;
      }
      // The subscriber cancels during this hour: nothing after the CANCELLATION.
      if (ms >= cancelMs) continue;
      out.push(u, ms, type, value, i);
      if (type === DATA_SESSION) s.dataMbSinceBill[u] += value;
    }
  }
}

type EventNamer = (user: string, suffix: string) => string;

/** Event ids `syn<seed>-<user>-<yyyymmdd>-<suffix>`: unique per run (one bill, payment, ... per subscriber-day). */
function eventNamer(seed: number, day: number): EventNamer {
  const prefix = `syn${seed}-`;
  const date = compactDate(day * DAY_MS);
  return (user, suffix) => `${prefix}${user}-${date}-${suffix}`;
}

const DAY_EVENT_SUFFIX: Record<number, string> = { [COMPLAINT]: 'complaint', [BILL]: 'bill', [PAYMENT]: 'payment', [PLAN_CHANGE]: 'plan', [CANCELLATION]: 'cancel' };

function toBillingEvent(b: EventBuffer, i: number, day: number, hour: number, currency: string, s: Subscribers, name: EventNamer): BillingEvent {
  const u = b.user[i];
  const type = b.type[i];
  const user = subscriberId(u);
  const usageSuffix = () => `h${String(hour).padStart(2, '0')}-${b.code[i]}`;
  const e = billingEvent(name(user, DAY_EVENT_SUFFIX[type] ?? usageSuffix()), user, day * DAY_MS + b.msOfDay[i], EVENT_TYPES[type]);
  switch (type) {
    case CALL:
      e.call_duration_s = b.value[i];
      break;
    case DATA_SESSION:
      e.data_mb = b.value[i];
      break;
    case COMPLAINT:
      e.complaint_category = COMPLAINT_CATEGORIES[b.code[i]];
      break;
    case BILL:
    case PAYMENT:
      e.amount = centsToAmount(b.value[i]);
      e.currency = currency;
      e.plan = PLANS[b.code[i] & ~LATE_FLAG].name;
      e.payment_method = PAYMENT_METHODS[s.paymentMethod[u]];
      e.late_payment = (b.code[i] & LATE_FLAG) !== 0;
      break;
    case PLAN_CHANGE:
    case CANCELLATION:
      e.plan = PLANS[b.code[i]].name;
      break;
  }
  return e;
}
