// The documents processor's shadow comparison (pure): entity-set Jaccard over (label, normalized or
// text, page, start, end), its threshold, and the review topic's pairing.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Entity, ExtractedEntities } from '../../schemas/generated/types.ts';
import { sampleExtractedEntities } from '../../schemas/sample-records.ts';
import { ENTITY_AGREEMENT_JACCARD, compareEntities, compareReview, entityJaccard, entityTuple } from './shadow-compare.ts';

const entity = (i: number, extra: Partial<Entity> = {}): Entity => ({ label: 'PARTY', text: `Party ${i}`, normalized: null, confidence: 0.9, page: 1, start_offset: i * 20, end_offset: i * 20 + 7, problems: [], ...extra });
const result = (entities: Entity[], extra: Partial<ExtractedEntities> = {}): ExtractedEntities => ({ ...sampleExtractedEntities, entities, ...extra });
const twenty = Array.from({ length: 20 }, (_, i) => entity(i));

describe('documents shadow compare', () => {
  it('the same entities agree with delta 0, whatever their confidences and problems', () => {
    const shadow = twenty.map((e) => ({ ...e, confidence: e.confidence - 0.2, problems: ['low confidence'] }));
    assert.deepEqual(compareEntities(result(twenty), result(shadow)), { agree: true, delta: 0 });
  });

  it('two results without entities agree', () => {
    assert.equal(entityJaccard([], []), 1);
    assert.deepEqual(compareEntities(result([]), result([])), { agree: true, delta: 0 });
  });

  it('one of 20 entities moved: Jaccard 19/21, above the threshold; three moved: 17/23, a disagreement', () => {
    const oneMoved = twenty.map((e, i) => (i === 0 ? { ...e, end_offset: e.end_offset + 1 } : e));
    const one = compareEntities(result(twenty), result(oneMoved));
    assert.ok(Math.abs(one.delta - (1 - 19 / 21)) < 1e-12, String(one.delta));
    assert.equal(one.agree, 19 / 21 >= ENTITY_AGREEMENT_JACCARD);
    assert.equal(one.agree, true);
    const threeMoved = twenty.map((e, i) => (i < 3 ? { ...e, page: 2 } : e));
    const three = compareEntities(result(twenty), result(threeMoved));
    assert.ok(Math.abs(three.delta - (1 - 17 / 23)) < 1e-12, String(three.delta));
    assert.equal(three.agree, false);
  });

  it('an entity found by one side only counts against the union', () => {
    assert.equal(entityJaccard(twenty.slice(0, 10), twenty.slice(0, 9)), 0.9);
    assert.equal(compareEntities(result(twenty.slice(0, 10)), result(twenty.slice(0, 9))).agree, true, 'exactly at the threshold agrees');
    assert.equal(compareEntities(result(twenty.slice(0, 10)), result([])).agree, false);
  });

  it('the normalized form stands for the text when there is one: the same date written differently at the same place agrees', () => {
    const a = entity(1, { label: 'EFFECTIVE_DATE', text: 'March 1, 2021', normalized: '2021-03-01' });
    const b = { ...a, text: 'March 1 , 2021' };
    assert.equal(entityTuple(a), entityTuple(b));
    const c = { ...a, normalized: '2021-03-02' };
    assert.notEqual(entityTuple(a), entityTuple(c));
    assert.notEqual(entityTuple(entity(1)), entityTuple({ ...entity(1), text: 'Party 1 Inc.' }), 'without a normalized form the text counts');
    assert.notEqual(entityTuple(entity(1)), entityTuple({ ...entity(1), label: 'GOVERNING_LAW' }));
  });

  it('duplicate tuples count once (a set, not a bag)', () => {
    assert.equal(entityJaccard([entity(1), entity(1)], [entity(1)]), 1);
  });

  it('a review pair agrees when both results ask for review', () => {
    assert.deepEqual(compareReview(result(twenty, { needs_review: true }), result([], { needs_review: true })), { agree: true });
    assert.deepEqual(compareReview(result(twenty, { needs_review: true }), result(twenty, { needs_review: false })), { agree: false });
  });
});
