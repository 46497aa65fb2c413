// The synthetic subscribers' behaviour model (docs/billing-producer.md has it in prose): who they
// are, what they use, when they are billed and pay, complain, change plan, and when they leave.
//
// Leaving is a two-step process, as retention teams see it: every day a subscriber who is not yet
// leaving "decides to leave" with a daily hazard, then cancels 2-6 weeks later. In between usage
// fades to a quarter, complaints become up to 7 times more frequent and payments turn late more
// often, so the weeks before a CANCELLATION look different. The hazard rises with a month-to-month
// contract, short tenure, a plan that is expensive for how little the subscriber uses it, paying by
// electronic check, recent complaints, recent late payments and the last month of a fixed-term
// contract. It is calibrated so about 3 % of subscribers cancel per month.
//
// State lives in typed arrays indexed by subscriber (Subscribers), ~70 bytes a subscriber, so
// millions fit. Each subscriber's draws come from its own seeded stream per day, so subscriber k
// behaves the same however many subscribers are simulated beside it.
import { Rng, mixSeed } from '../../streams/runtime/random.ts';
import { PAYMENT_METHODS } from './billing-events.ts';
import { BILL, CANCELLATION, COMPLAINT, PAYMENT, PLAN_CHANGE, type EventBuffer } from './event-buffer.ts';

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;
const DAYS_PER_MONTH = 30.44;
/** "No day": a subscriber who is not leaving, has no payment due, is not away. */
export const NONE = -1;
/** Set in a PAYMENT's code (EventBuffer.code) when it was late; the low bits hold the plan. */
export const LATE_FLAG = 0x100;

export interface Plan {
  name: string;
  family: 'prepaid' | 'postpaid';
  /** EUR per month. */
  monthlyPrice: number;
  /** Data in the price; more is billed at OVERAGE_CENTS_PER_GB. */
  includedDataMb: number;
  /** What a typical subscriber of the plan uses per day. */
  callsPerDay: number;
  dataMbPerDay: number;
  smsPerDay: number;
  /** Fraction of new subscribers on this plan. */
  share: number;
}

export const PLANS: readonly Plan[] = [
  { name: 'prepaid-s', family: 'prepaid', monthlyPrice: 10, includedDataMb: 3_000, callsPerDay: 0.8, dataMbPerDay: 60, smsPerDay: 0.8, share: 0.15 },
  { name: 'prepaid-m', family: 'prepaid', monthlyPrice: 20, includedDataMb: 10_000, callsPerDay: 1.0, dataMbPerDay: 220, smsPerDay: 0.7, share: 0.15 },
  { name: 'postpaid-s', family: 'postpaid', monthlyPrice: 25, includedDataMb: 10_000, callsPerDay: 1.2, dataMbPerDay: 200, smsPerDay: 0.6, share: 0.2 },
  { name: 'postpaid-m', family: 'postpaid', monthlyPrice: 40, includedDataMb: 30_000, callsPerDay: 1.4, dataMbPerDay: 600, smsPerDay: 0.5, share: 0.25 },
  { name: 'postpaid-l', family: 'postpaid', monthlyPrice: 60, includedDataMb: 100_000, callsPerDay: 1.6, dataMbPerDay: 1_500, smsPerDay: 0.4, share: 0.15 },
  { name: 'postpaid-unlimited', family: 'postpaid', monthlyPrice: 80, includedDataMb: Infinity, callsPerDay: 1.8, dataMbPerDay: 3_000, smsPerDay: 0.4, share: 0.1 },
];
const PLAN_SHARES = PLANS.map((p) => p.share);
const OVERAGE_CENTS_PER_GB = 300;
const OVERAGE_CAP_CENTS = 3_000;

export const CONTRACTS = ['month-to-month', 'one-year', 'two-year'] as const;
const CONTRACT_TERM_DAYS = [0, 365, 730];
/** Postpaid contract mix; prepaid is always month-to-month. */
const POSTPAID_CONTRACT_SHARES = [0.45, 0.25, 0.3];
/** Mean tenure at the start of the simulation, months, by contract. */
const MEAN_TENURE_MONTHS = [14, 30, 45];
const MAX_TENURE_MONTHS = 72;

const PAYMENT_METHOD_SHARES = [0.33, 0.22, 0.22, 0.23];
/** Probability that a payment is late for a typical subscriber paying this way (auto-pay rarely is). */
const LATE_PAYMENT_BASE = [0.12, 0.1, 0.02, 0.02];

export const COMPLAINT_CATEGORIES = ['network', 'coverage', 'billing', 'service', 'device'] as const;
const COMPLAINT_CATEGORY_SHARES = [0.3, 0.2, 0.25, 0.15, 0.1];
const BILLING_COMPLAINT = 2;

// The churn hazard: a monthly rate for a reference subscriber (month-to-month, long tenure, fair
// price, card payment, no complaints), times one factor per driver. BASE_MONTHLY_HAZARD was tuned
// with the churn-rate test's population so ~3 % of all subscribers cancel per month.
const BASE_MONTHLY_HAZARD = 0.0215;
const CONTRACT_FACTOR = [1, 0.3, 0.1];
const PAYMENT_FACTOR = [1.6, 1.0, 0.75, 0.75];
/** In the last 30 days of a fixed term the subscriber can leave without a fee. */
const RENEWAL_WINDOW_DAYS = 30;
const RENEWAL_FACTOR = 4;
const PER_RECENT_COMPLAINT = 0.8;
const PER_RECENT_LATE_PAYMENT = 0.6;
const COMPLAINT_HALF_LIFE_DAYS = 30;
const LATE_HALF_LIFE_DAYS = 60;

/** Days from deciding to leave to the CANCELLATION. */
const LEAVING_MIN_DAYS = 14;
const LEAVING_MAX_DAYS = 42;
/** At the cancellation day usage is down to 1 - USAGE_FADE of normal. */
const USAGE_FADE = 0.75;
const COMPLAINT_BOOST = 6;
const LATE_BOOST = 0.4;
const DOWNGRADE_WHILE_LEAVING_PER_DAY = 0.01;
const PLAN_CHANGE_PER_DAY = 0.0004;
/** Holidays and trips: usage drops to AWAY_USAGE for 3-14 days. Makes a usage dip an imperfect churn signal. */
const AWAY_START_PER_DAY = 0.004;
const AWAY_USAGE = 0.3;

export class Subscribers {
  readonly count: number;
  readonly plan: Uint8Array;
  readonly contract: Uint8Array;
  readonly paymentMethod: Uint8Array;
  /** Epoch day the subscription began (before the simulation starts, for everyone). */
  readonly joinDay: Int32Array;
  readonly billDayOfMonth: Uint8Array;
  /** The subscriber's own habits (absolute, so they survive a plan change). */
  readonly callsPerDay: Float32Array;
  readonly dataMbPerDay: Float32Array;
  readonly smsPerDay: Float32Array;
  /** Complaints per day while content. */
  readonly complaintRate: Float32Array;
  /** Probability that a payment is late while content. */
  readonly lateProneness: Float32Array;
  /** Recent complaints / late payments, decaying with their half-lives. */
  readonly complaintScore: Float32Array;
  readonly lateScore: Float32Array;
  readonly leavingSinceDay: Int32Array;
  /** Epoch day of the CANCELLATION, NONE while not leaving. After it the subscriber is silent. */
  readonly cancelDay: Int32Array;
  /** Time of the CANCELLATION in its day, set on that day. */
  readonly cancelMsOfDay: Int32Array;
  readonly awayUntilDay: Int32Array;
  /** Today's usage multiplier (leaving fade x away dip), set each day by beginDay. */
  readonly usageFactor: Float32Array;
  /** Data used since the last bill, for overage. */
  readonly dataMbSinceBill: Float32Array;
  readonly paymentDay: Int32Array;
  readonly paymentCents: Int32Array;
  readonly paymentLate: Uint8Array;
  readonly paymentPlan: Uint8Array;

  constructor(count: number) {
    this.count = count;
    this.plan = new Uint8Array(count);
    this.contract = new Uint8Array(count);
    this.paymentMethod = new Uint8Array(count);
    this.joinDay = new Int32Array(count);
    this.billDayOfMonth = new Uint8Array(count);
    this.callsPerDay = new Float32Array(count);
    this.dataMbPerDay = new Float32Array(count);
    this.smsPerDay = new Float32Array(count);
    this.complaintRate = new Float32Array(count);
    this.lateProneness = new Float32Array(count);
    this.complaintScore = new Float32Array(count);
    this.lateScore = new Float32Array(count);
    this.leavingSinceDay = new Int32Array(count).fill(NONE);
    this.cancelDay = new Int32Array(count).fill(NONE);
    this.cancelMsOfDay = new Int32Array(count);
    this.awayUntilDay = new Int32Array(count).fill(NONE);
    this.usageFactor = new Float32Array(count);
    this.dataMbSinceBill = new Float32Array(count);
    this.paymentDay = new Int32Array(count).fill(NONE);
    this.paymentCents = new Int32Array(count);
    this.paymentLate = new Uint8Array(count);
    this.paymentPlan = new Uint8Array(count);
  }

  /** Still a subscriber on `day` (the cancellation day included: events before the CANCELLATION happen). */
  activeOn(u: number, day: number): boolean {
    const cancel = this.cancelDay[u];
    return cancel === NONE || day <= cancel;
  }
}

/** Tag mixed into the seed of a subscriber's profile stream, apart from its per-day streams (epoch days). */
const PROFILE_STREAM = -1;

function pick(rng: Rng, shares: readonly number[]): number {
  let u = rng.uniform();
  for (let i = 0; i < shares.length - 1; i++) {
    u -= shares[i];
    if (u < 0) return i;
  }
  return shares.length - 1;
}

/** Poisson-distributed count for a small mean, by inversion of one uniform. */
export function poisson(mean: number, uniform: number): number {
  let p = Math.exp(-mean);
  let cdf = p;
  let k = 0;
  while (uniform > cdf && k < 1_000) {
    k++;
    p *= mean / k;
    cdf += p;
  }
  return k;
}

/** Draws subscriber u's profile as of `firstDay`, including history: tenure, recent complaints, leaving already. */
export function initSubscriber(s: Subscribers, u: number, seed: number, firstDay: number): void {
  const rng = new Rng(mixSeed(seed, u, PROFILE_STREAM));
  const plan = pick(rng, PLAN_SHARES);
  const contract = PLANS[plan].family === 'prepaid' ? 0 : pick(rng, POSTPAID_CONTRACT_SHARES);
  const method = pick(rng, PAYMENT_METHOD_SHARES);
  s.plan[u] = plan;
  s.contract[u] = contract;
  s.paymentMethod[u] = method;
  const tenureMonths = Math.min(MAX_TENURE_MONTHS, rng.exponential(MEAN_TENURE_MONTHS[contract]));
  s.joinDay[u] = firstDay - Math.round(tenureMonths * DAYS_PER_MONTH);
  s.billDayOfMonth[u] = 1 + Math.floor(rng.uniform() * 28);
  s.callsPerDay[u] = PLANS[plan].callsPerDay * Math.exp(0.5 * rng.normal());
  s.dataMbPerDay[u] = PLANS[plan].dataMbPerDay * Math.exp(0.6 * rng.normal());
  s.smsPerDay[u] = PLANS[plan].smsPerDay * Math.exp(0.7 * rng.normal());
  s.complaintRate[u] = 0.004 * Math.exp(0.8 * rng.normal());
  s.lateProneness[u] = Math.min(0.8, LATE_PAYMENT_BASE[method] * Math.exp(0.6 * rng.normal()));
  // Steady-state history, so the first weeks are not unnaturally calm: complaints of the last
  // ~6 weeks and late payments of the last ~3 months (the scores' mean lifetimes).
  s.complaintScore[u] = poisson(s.complaintRate[u] * (COMPLAINT_HALF_LIFE_DAYS / Math.LN2), rng.uniform());
  s.lateScore[u] = poisson(s.lateProneness[u] * (LATE_HALF_LIFE_DAYS / Math.LN2 / DAYS_PER_MONTH), rng.uniform());
  s.dataMbSinceBill[u] = s.dataMbPerDay[u] * daysSinceBillDay(s.billDayOfMonth[u], firstDay);
  // Some are already on their way out: the steady-state share is hazard x mean leaving time, at a
  // uniformly random point of the way.
  const meanLeavingDays = (LEAVING_MIN_DAYS + LEAVING_MAX_DAYS) / 2;
  if (rng.uniform() < dailyChurnHazard(s, u, firstDay) * meanLeavingDays) {
    const leavingDays = LEAVING_MIN_DAYS + Math.floor(rng.uniform() * (LEAVING_MAX_DAYS - LEAVING_MIN_DAYS + 1));
    const elapsed = Math.floor(rng.uniform() * leavingDays);
    s.leavingSinceDay[u] = firstDay - elapsed;
    s.cancelDay[u] = firstDay - elapsed + leavingDays;
  }
}

/** Day of the month (1-31) of an epoch day; remembered, since every subscriber asks about the same day. */
let lastDay = NaN;
let lastDayOfMonth = 0;
function dayOfMonth(day: number): number {
  if (day !== lastDay) {
    lastDay = day;
    lastDayOfMonth = new Date(day * DAY_MS).getUTCDate();
  }
  return lastDayOfMonth;
}

function daysSinceBillDay(billDayOfMonth: number, day: number): number {
  const today = dayOfMonth(day);
  return today >= billDayOfMonth ? today - billDayOfMonth : today + 30 - billDayOfMonth;
}

/** How much of the plan the subscriber uses (1 = typical for the plan); below 1 the price feels high. */
function usageOfPlan(s: Subscribers, u: number): number {
  const plan = PLANS[s.plan[u]];
  return Math.sqrt((s.callsPerDay[u] / plan.callsPerDay) * (s.dataMbPerDay[u] / plan.dataMbPerDay));
}

/** Probability that subscriber u, not yet leaving, decides to leave on `day`. */
export function dailyChurnHazard(s: Subscribers, u: number, day: number): number {
  const contract = s.contract[u];
  const tenureMonths = (day - s.joinDay[u]) / DAYS_PER_MONTH;
  const tenureFactor = 1 + 1.5 * Math.exp(-tenureMonths / 6);
  const priceFactor = Math.min(2, Math.max(0.7, 1 / Math.sqrt(usageOfPlan(s, u))));
  let renewalFactor = 1;
  const term = CONTRACT_TERM_DAYS[contract];
  if (term > 0 && term - ((day - s.joinDay[u]) % term) <= RENEWAL_WINDOW_DAYS) renewalFactor = RENEWAL_FACTOR;
  const monthly =
    BASE_MONTHLY_HAZARD *
    CONTRACT_FACTOR[contract] *
    tenureFactor *
    priceFactor *
    PAYMENT_FACTOR[s.paymentMethod[u]] *
    renewalFactor *
    (1 + PER_RECENT_COMPLAINT * s.complaintScore[u]) *
    (1 + PER_RECENT_LATE_PAYMENT * s.lateScore[u]);
  return Math.min(1, monthly) / DAYS_PER_MONTH;
}

/** 0 while content, rising to 1 on the cancellation day. */
export function leavingProgress(s: Subscribers, u: number, day: number): number {
  const since = s.leavingSinceDay[u];
  if (since === NONE) return 0;
  return Math.min(1, (day - since) / (s.cancelDay[u] - since));
}

const COMPLAINT_DECAY = 0.5 ** (1 / COMPLAINT_HALF_LIFE_DAYS);
const LATE_DECAY = 0.5 ** (1 / LATE_HALF_LIFE_DAYS);

/**
 * Subscriber u's day-level decisions for `day`: whether it decides to leave, today's usage factor,
 * and its day events (bill, payment, complaint, plan change, cancellation) into `out`. Call once
 * per active subscriber per day, days in order; usage events are drawn afterwards per hour.
 */
export function beginDay(s: Subscribers, u: number, seed: number, day: number, out: EventBuffer): void {
  const rng = new Rng(mixSeed(seed, u, day));
  s.complaintScore[u] *= COMPLAINT_DECAY;
  s.lateScore[u] *= LATE_DECAY;
  if (s.leavingSinceDay[u] === NONE && rng.uniform() < dailyChurnHazard(s, u, day)) {
    s.leavingSinceDay[u] = day;
    s.cancelDay[u] = day + LEAVING_MIN_DAYS + Math.floor(rng.uniform() * (LEAVING_MAX_DAYS - LEAVING_MIN_DAYS + 1));
  }
  const leaving = leavingProgress(s, u, day);
  if (s.awayUntilDay[u] < day && rng.uniform() < AWAY_START_PER_DAY) s.awayUntilDay[u] = day + 2 + Math.floor(rng.uniform() * 12);
  s.usageFactor[u] = (s.awayUntilDay[u] >= day ? AWAY_USAGE : 1) * (1 - USAGE_FADE * leaving);
  // The cancellation is made in a shop or call centre, 09:00-19:00; nothing of the subscriber's
  // happens after it, on that day or later.
  const cancelling = s.cancelDay[u] === day;
  const cancelMs = cancelling ? 9 * HOUR_MS + Math.floor(rng.uniform() * 10 * HOUR_MS) : DAY_MS;
  s.cancelMsOfDay[u] = cancelMs;
  const emit = (ms: number, type: number, value: number, code: number) => {
    if (ms < cancelMs) out.push(u, ms, type, value, code);
  };

  let complaint = NONE;
  // The monthly bill run, 02:00-04:00 on the subscriber's bill day: price plus data overage.
  if (dayOfMonth(day) === s.billDayOfMonth[u]) {
    const plan = PLANS[s.plan[u]];
    const overGb = Math.max(0, s.dataMbSinceBill[u] - plan.includedDataMb) / 1000;
    const overageCents = Math.min(OVERAGE_CAP_CENTS, Math.round(overGb * OVERAGE_CENTS_PER_GB));
    const cents = plan.monthlyPrice * 100 + overageCents;
    emit(2 * HOUR_MS + Math.floor(rng.uniform() * 2 * HOUR_MS), BILL, cents, s.plan[u]);
    s.dataMbSinceBill[u] = 0;
    const late = rng.uniform() < Math.min(0.95, s.lateProneness[u] + LATE_BOOST * leaving);
    const autoPay = PAYMENT_METHODS[s.paymentMethod[u]].endsWith('-auto');
    // Due in 14 days. Auto-pay collects the next day; checks take 2-12 days; late ones 15-25
    // (before the next bill run, so one payment is pending at a time).
    const delay = late ? 15 + Math.floor(rng.uniform() * 11) : autoPay ? 1 : 2 + Math.floor(rng.uniform() * 11);
    s.paymentDay[u] = day + delay;
    s.paymentCents[u] = cents;
    s.paymentLate[u] = late ? 1 : 0;
    s.paymentPlan[u] = s.plan[u];
    // A bill with overage makes some subscribers call in about it.
    if (overageCents > 0 && rng.uniform() < 0.15) complaint = BILLING_COMPLAINT;
  }
  if (s.paymentDay[u] === day) {
    const late = s.paymentLate[u] === 1;
    emit(5 * HOUR_MS + Math.floor(rng.uniform() * 16 * HOUR_MS), PAYMENT, s.paymentCents[u], s.paymentPlan[u] | (late ? LATE_FLAG : 0));
    if (late) s.lateScore[u] += 1;
    s.paymentDay[u] = NONE;
  }
  if (complaint === NONE && rng.uniform() < s.complaintRate[u] * (1 + COMPLAINT_BOOST * leaving)) complaint = pick(rng, COMPLAINT_CATEGORY_SHARES);
  // One complaint a day at most (event ids name day events by type).
  if (complaint !== NONE) {
    emit(8 * HOUR_MS + Math.floor(rng.uniform() * 13 * HOUR_MS), COMPLAINT, 0, complaint);
    s.complaintScore[u] += 1;
  }
  const changeChance = PLAN_CHANGE_PER_DAY + (leaving > 0 ? DOWNGRADE_WHILE_LEAVING_PER_DAY * leaving : 0);
  if (rng.uniform() < changeChance) {
    const target = nextPlan(s, u, rng, leaving > 0);
    if (target !== s.plan[u]) {
      s.plan[u] = target;
      emit(8 * HOUR_MS + Math.floor(rng.uniform() * 12 * HOUR_MS), PLAN_CHANGE, 0, target);
    }
  }
  if (cancelling) out.push(u, cancelMs, CANCELLATION, 0, s.plan[u]);
}

/** Within the plan's family (prepaid or postpaid): leaving subscribers go cheaper, others follow their usage. */
function nextPlan(s: Subscribers, u: number, rng: Rng, leaving: boolean): number {
  const current = s.plan[u];
  const family = PLANS[current].family;
  const cheaper = current > 0 && PLANS[current - 1].family === family ? current - 1 : current;
  const dearer = current + 1 < PLANS.length && PLANS[current + 1].family === family ? current + 1 : current;
  if (leaving) return cheaper;
  const use = usageOfPlan(s, u);
  if (use > 1.3) return dearer;
  if (use < 0.7) return cheaper;
  return rng.uniform() < 0.5 ? cheaper : dearer;
}
