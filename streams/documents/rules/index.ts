// Validation rules for LexiScan documents (pure functions, no I/O). See docs/documents-rules.md.
export type { CheckedEntity, NerEntity } from './types.ts';
export { validateDocument, type DocumentValidation, type ValidateOptions } from './validate.ts';
export { normalizeDate, type DateOptions, type DateResult, type NormalizedDate, type DateProblem } from './normalize-date.ts';
export type { DateOrder } from './dates.ts';
export type { Duration, RelativeTerm, DateAnchor } from './date-terms.ts';
export { normalizeAmount, type AmountResult, type NormalizedAmount } from './amounts.ts';
export { normalizeGoverningLaw, type GoverningLawResult } from './governing-law.ts';
export type { Jurisdiction } from './jurisdictions.ts';
export { linkParties, type PartyGroup, type PartyLink } from './parties.ts';
export { normalizePartyName } from './party-names.ts';
export { inferDateOrder } from './date-order.ts';
