// W3C Trace Context (https://www.w3.org/TR/trace-context/) carried in Kafka headers. Only the
// `traceparent` header is needed to stitch a record's path across processors; a full OpenTelemetry
// SDK would add a dependency tree for one 55-character header, so it is parsed here.
import { randomBytes } from 'node:crypto';

export const TRACEPARENT_HEADER = 'traceparent';
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);

export interface TraceContext {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

export function parseTraceparent(header: string | undefined | null): TraceContext | null {
  if (!header) return null;
  const m = TRACEPARENT.exec(header.trim().toLowerCase());
  if (!m || m[1] === 'ff' || m[2] === ZERO_TRACE || m[3] === ZERO_SPAN) return null;
  return { traceId: m[2], spanId: m[3], sampled: (parseInt(m[4], 16) & 1) === 1 };
}

export function formatTraceparent(ctx: TraceContext): string {
  return `00-${ctx.traceId}-${ctx.spanId}-${ctx.sampled ? '01' : '00'}`;
}

/** The context for work caused by `parent`: same trace, new span. A record without a parent starts a trace. */
export function childContext(parent: TraceContext | null): TraceContext {
  return {
    traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    sampled: parent?.sampled ?? true,
  };
}
