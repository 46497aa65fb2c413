// How a shadow LexiScan challenger's result compares with the champion's for the same upload
// (ProcessorDefinition.compare, paired per topic by the runtime: streams/runtime/rollout/rollout-chunk.ts).
// A document has no single score, so agreement is about the entity sets: an entity is the tuple
// (label, normalized form or else the text, page, start, end), and the two results agree when the
// Jaccard similarity of their tuple sets reaches ENTITY_AGREEMENT_JACCARD; the delta is 1 - Jaccard.
// Confidences are left out on purpose: a retrained model moves every confidence a little, and what a
// reader of docs.entities.v1 sees change is which entities are found where.
import type { Entity, ExtractedEntities } from '../../schemas/generated/types.ts';

/**
 * Jaccard at or above which two results of one document agree. 0.9 tolerates about one entity in
 * twenty differing (a 20-entity contract may gain or lose one boundary word of one clause) and
 * calls two entities in ten different a disagreement; the same model on the same pages gives 1.
 */
export const ENTITY_AGREEMENT_JACCARD = 0.9;

/** One entity as the comparison sees it (JSON of the tuple, so no separator can collide with a text). */
export function entityTuple(e: Pick<Entity, 'label' | 'normalized' | 'text' | 'page' | 'start_offset' | 'end_offset'>): string {
  return JSON.stringify([e.label, e.normalized ?? e.text, e.page, e.start_offset, e.end_offset]);
}

/** |A ∩ B| / |A ∪ B| of the two results' entity tuples; two results without entities are identical (1). */
export function entityJaccard(a: readonly Entity[], b: readonly Entity[]): number {
  const left = new Set(a.map(entityTuple));
  const right = new Set(b.map(entityTuple));
  if (left.size === 0 && right.size === 0) return 1;
  let both = 0;
  for (const t of left) if (right.has(t)) both++;
  return both / (left.size + right.size - both);
}

/** docs.entities.v1: agree when the entity sets agree (Jaccard >= ENTITY_AGREEMENT_JACCARD); delta = 1 - Jaccard. */
export function compareEntities(live: ExtractedEntities, shadow: ExtractedEntities): { agree: boolean; delta: number } {
  const jaccard = entityJaccard(live.entities, shadow.entities);
  return { agree: jaccard >= ENTITY_AGREEMENT_JACCARD, delta: 1 - jaccard };
}

/**
 * docs.entities-review.v1: the runtime pairs review records by document, and one that only one side
 * sent already counts as a disagreement (neither sending one is no record, so nothing to count). A
 * pair therefore agrees: both sent the document to a person. needs_review is checked anyway, so a
 * review record without it (a bug upstream) shows as a disagreement rather than hiding.
 */
export function compareReview(live: ExtractedEntities, shadow: ExtractedEntities): { agree: boolean } {
  return { agree: live.needs_review && shadow.needs_review };
}
