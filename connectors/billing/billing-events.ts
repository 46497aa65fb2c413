// What both billing sources (the synthetic subscribers and the IBM Telco table) share: one way to
// build a BillingEvent with every optional field null, and the payment-method names, so the two
// sources speak the same vocabulary in the lake.
import type { BillingEvent, BillingEventType } from '../../schemas/generated/types.ts';

/** Payment methods in kebab-case; the four of the IBM Telco table (PaymentMethod), auto-pay shortened to `-auto`. */
export const PAYMENT_METHODS = ['electronic-check', 'mailed-check', 'bank-transfer-auto', 'credit-card-auto'] as const;
export type PaymentMethod = (typeof PAYMENT_METHODS)[number];

/** A BillingEvent with the fields every type carries set and the type-specific ones null / false. */
export function billingEvent(eventId: string, userId: string, eventTime: number, type: BillingEventType): BillingEvent {
  return {
    event_id: eventId,
    user_id: userId,
    event_time: eventTime,
    event_type: type,
    call_duration_s: null,
    data_mb: null,
    amount: null,
    currency: null,
    plan: null,
    complaint_category: null,
    late_payment: false,
    payment_method: null,
  };
}

/** Cents to the amount in currency units, exact to the cent (no 0.1 + 0.2 residue). */
export function centsToAmount(cents: number): number {
  return Math.round(cents) / 100;
}

/** `2026-06-30` -> `20260630`, for event ids that sort and read as dates. */
export function compactDate(epochMs: number): string {
  return new Date(epochMs).toISOString().slice(0, 10).replaceAll('-', '');
}
