// LexiScan's drift features: what one document looked like to the model (how much of it was OCR,
// how much text a page holds) and what the model found in it (entities and their confidence for
// the labels every contract has), with the contract-type confidence as the "prediction". One
// function serves the processor's drift samples and `documents extract --json` (whose output
// models/documents/make_reference.py turns into reference.json), so both count alike.
import type { Extraction } from './extract.ts';

/**
 * A small set on purpose: every contract names parties and a date, most a governing law, so these
 * move when the documents or the model's view of them change. Labels most contracts lack (amounts,
 * termination clauses) would be 0 nearly always, and a mean confidence of an absent label is
 * undefined (NaN: the monitor skips it).
 */
export const DRIFT_LABELS = ['PARTY', 'AGREEMENT_DATE', 'GOVERNING_LAW'] as const;

/** The drift feature names, in the reference's order (the prediction is separate). */
export const DOCUMENT_DRIFT_FEATURES = ['ocr_page_share', 'chars_per_page', ...DRIFT_LABELS.flatMap((l) => [`entities_${l}`, `confidence_${l}`])];

/** Feature values of one extraction plus `prediction` (the contract-type confidence; NaN when no classifier ran). */
export function documentDriftValues(r: Pick<Extraction, 'pageTexts' | 'pageSources' | 'entities' | 'contractTypeConfidence'>): Record<string, number> {
  const pages = Math.max(r.pageTexts.length, 1);
  const ocrPages = r.pageSources.filter((p) => p.source === 'ocr' || p.source === 'image-ocr').length;
  const values: Record<string, number> = {
    ocr_page_share: ocrPages / pages,
    chars_per_page: r.pageTexts.reduce((n, t) => n + t.length, 0) / pages,
    prediction: r.contractTypeConfidence ?? NaN,
  };
  for (const label of DRIFT_LABELS) {
    const found = r.entities.filter((e) => e.label === label);
    values[`entities_${label}`] = found.length;
    values[`confidence_${label}`] = found.length ? found.reduce((s, e) => s + e.confidence, 0) / found.length : NaN;
  }
  return values;
}
