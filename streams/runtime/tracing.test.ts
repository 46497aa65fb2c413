import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childContext, formatTraceparent, parseTraceparent } from './tracing.ts';

test('parses and formats W3C traceparent', () => {
  const h = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
  const ctx = parseTraceparent(h);
  assert.deepEqual(ctx, { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', sampled: true });
  assert.equal(formatTraceparent(ctx!), h);
});

test('rejects malformed or all-zero ids and the forbidden version ff', () => {
  for (const bad of ['', 'garbage', '00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01', `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`, `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`, 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01']) {
    assert.equal(parseTraceparent(bad), null, bad);
  }
});

test('a child keeps the trace id and gets a new span id; no parent starts a new trace', () => {
  const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')!;
  const child = childContext(parent);
  assert.equal(child.traceId, parent.traceId);
  assert.notEqual(child.spanId, parent.spanId);
  assert.equal(child.sampled, false);
  const root = childContext(null);
  assert.match(formatTraceparent(root), /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
});
