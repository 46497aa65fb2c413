import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonShapeScanner, type JsonLimits } from './json-body.ts';

const LIMITS: JsonLimits = { maxBytes: 1 << 20, maxDepth: 3, maxArrayItems: 4 };

/** Feeds `text` to a fresh scanner in chunks of `size` bytes; returns the refusal message or null. */
function scan(text: string, size = text.length, limits = LIMITS): string | null {
  const scanner = new JsonShapeScanner(limits);
  const bytes = Buffer.from(text);
  try {
    for (let i = 0; i < bytes.length; i += size) scanner.write(bytes.subarray(i, i + size));
    return null;
  } catch (err) {
    return (err as Error).message;
  }
}

test('accepts documents within the depth and array limits, whatever the chunking', () => {
  const ok = ['{"a": [1, 2, 3, 4]}', '[[1,2],[3,4],[],{}]', '{"s": "[[[[[,,,,,,"}', '{"s": "\\"[[[[\\\\", "t": [ 1 , 2 ]}', '[]', '"x"', '7'];
  for (const doc of ok) for (const size of [1, 2, 5, doc.length]) assert.equal(scan(doc, size), null, `${doc} in chunks of ${size}`);
});

test('refuses nesting deeper than the limit, counting objects and arrays', () => {
  assert.match(String(scan('[[[[1]]]]')), /deeper than 3 levels/);
  assert.match(String(scan('{"a":{"b":{"c":{}}}}')), /deeper than 3 levels/);
  assert.match(String(scan('['.repeat(1_000_000), 65536)), /deeper than 3 levels/);
  assert.equal(scan('[[[1]]]'), null);
});

test('refuses an array with more elements than the limit, at any depth', () => {
  assert.match(String(scan('[1,2,3,4,5]')), /more than 4 elements/);
  assert.match(String(scan('{"r": [{}, {}, {}, {}, {}]}', 3)), /more than 4 elements/);
  assert.match(String(scan(`[${'1,'.repeat(500_000)}1]`, 65536)), /more than 4 elements/);
  // Commas inside strings and objects are not elements.
  assert.equal(scan('[",,,,,,", {"a":1,"b":2,"c":3,"d":4,"e":5}]'), null);
  assert.equal(scan('[1,2,3,4]'), null);
});
