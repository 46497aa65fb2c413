// ExtractedEntities records for tests of the index and the upload API, shaped like the processor's:
// entities with page offsets, normalised values as the rules module writes them.
import type { Entity, ExtractedEntities } from '../../schemas/generated/types.ts';

export interface ResultFacts {
  parties?: string[];
  /** [text as written, jurisdiction code or null] */
  law?: [string, string | null];
  dates?: [label: string, iso: string][];
  /** [text as written, '1250.00 EUR'] */
  amounts?: [string, string][];
  contractType?: string | null;
  needsReview?: boolean;
  validationErrors?: string[];
  extractedAt?: number;
  textBlobUri?: string | null;
}

export function extractedEntities(documentId: string, f: ResultFacts): ExtractedEntities {
  const entities: Entity[] = [];
  let offset = 0;
  const add = (label: string, text: string, normalized: string | null) => {
    entities.push({ label, text, normalized, confidence: 0.93, page: 1, start_offset: offset, end_offset: offset + text.length, problems: [] });
    offset += text.length + 10;
  };
  for (const p of f.parties ?? []) add('PARTY', p, null);
  for (const [label, iso] of f.dates ?? []) add(label, iso, iso);
  for (const [text, normalized] of f.amounts ?? []) add('AMOUNT', text, normalized);
  if (f.law) add('GOVERNING_LAW', f.law[0], f.law[1]);
  return {
    document_id: documentId,
    model_name: 'legal-ner-test',
    model_version: '0.0.1',
    extracted_at: f.extractedAt ?? Date.now(),
    ocr_used: false,
    pages: 1,
    entities,
    needs_review: f.needsReview ?? false,
    validation_errors: f.validationErrors ?? [],
    contract_type: f.contractType ?? null,
    contract_type_confidence: f.contractType ? 0.88 : null,
    page_sources: [{ page: 1, source: 'text-layer', ocr_confidence: null }],
    sha256: null,
    text_blob_uri: f.textBlobUri ?? null,
  };
}
