// Events of one slice of simulated time (an hour of a day, or a day's bills and complaints) kept as
// columns of typed arrays instead of objects: a million subscribers' hour is ~170k events, ~25 bytes
// each here against ~300 as BillingEvent objects, and they are sorted by time before any object is
// made. The buffer grows by doubling and is reused slice after slice.
import type { BillingEventType } from '../../schemas/generated/types.ts';

/** The enum's symbols in schema order; a buffer stores an event's type as its index here. */
export const EVENT_TYPES: readonly BillingEventType[] = ['CALL', 'DATA_SESSION', 'SMS', 'COMPLAINT', 'BILL', 'PAYMENT', 'PLAN_CHANGE', 'CANCELLATION', 'ACCOUNT_OPENED'];
export const CALL = 0;
export const DATA_SESSION = 1;
export const SMS = 2;
export const COMPLAINT = 3;
export const BILL = 4;
export const PAYMENT = 5;
export const PLAN_CHANGE = 6;
export const CANCELLATION = 7;

/** Sort keys pack (time in the day, position in the buffer) into one float64: 27 + 26 bits <= 53. */
const POSITION_BITS = 26;
const POSITION_RANGE = 2 ** POSITION_BITS;
const MS_PER_DAY = 86_400_000;

export class EventBuffer {
  length = 0;
  /** Subscriber index. */
  user: Uint32Array;
  /** Milliseconds since the start of the (UTC) day. */
  msOfDay: Int32Array;
  /** Index into EVENT_TYPES. */
  type: Uint8Array;
  /** call_duration_s, data_mb, or the amount in cents, by type. */
  value: Float64Array;
  /** Type-specific small integer: usage index within the subscriber's hour, plan, complaint category, late flag. */
  code: Uint16Array;
  private keys: Float64Array;

  constructor(capacity = 1024) {
    this.user = new Uint32Array(capacity);
    this.msOfDay = new Int32Array(capacity);
    this.type = new Uint8Array(capacity);
    this.value = new Float64Array(capacity);
    this.code = new Uint16Array(capacity);
    this.keys = new Float64Array(capacity);
  }

  push(user: number, msOfDay: number, type: number, value: number, code: number): void {
    if (this.length === this.user.length) this.grow();
    const i = this.length++;
    this.user[i] = user;
    this.msOfDay[i] = msOfDay;
    this.type[i] = type;
    this.value[i] = value;
    this.code[i] = code;
  }

  /** Appends `other[i]`. */
  copyFrom(other: EventBuffer, i: number): void {
    this.push(other.user[i], other.msOfDay[i], other.type[i], other.value[i], other.code[i]);
  }

  clear(): void {
    this.length = 0;
  }

  /**
   * Positions of the events in time order; events at the same millisecond keep the order they were
   * pushed in, so one subscriber's events keep their causal order (a bill before its payment).
   * The result is valid until the next push.
   */
  sortedPositions(): Uint32Array {
    const n = this.length;
    if (n > POSITION_RANGE) throw new Error(`event buffer holds ${n} events; sorting supports at most ${POSITION_RANGE} per slice`);
    const keys = this.keys.subarray(0, n);
    for (let i = 0; i < n; i++) {
      const ms = this.msOfDay[i];
      if (ms < 0 || ms >= MS_PER_DAY) throw new Error(`event ${i} has msOfDay ${ms} outside the day`);
      keys[i] = ms * POSITION_RANGE + i;
    }
    keys.sort();
    const positions = new Uint32Array(n);
    for (let i = 0; i < n; i++) positions[i] = keys[i] % POSITION_RANGE;
    return positions;
  }

  private grow(): void {
    const capacity = Math.max(1024, this.user.length * 2);
    const grown = <T extends Uint32Array | Int32Array | Uint8Array | Float64Array | Uint16Array>(a: T, make: new (n: number) => T): T => {
      const b = new make(capacity);
      b.set(a);
      return b;
    };
    this.user = grown(this.user, Uint32Array);
    this.msOfDay = grown(this.msOfDay, Int32Array);
    this.type = grown(this.type, Uint8Array);
    this.value = grown(this.value, Float64Array);
    this.code = grown(this.code, Uint16Array);
    this.keys = new Float64Array(capacity);
  }
}
