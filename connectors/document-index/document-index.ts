// The search index of documents by what was extracted from them: the status the upload API answers
// with (queued | done | rejected), and parties, dates, amounts, governing law, contract type and full
// text for /v1/search. Two backends behind one interface: SQLite with FTS5 (node:sqlite, the
// embedded default) and PostgreSQL with tsvector (when DATABASE_URL is set). Both derive the same
// rows from an ExtractedEntities record (indexRows below), so they answer the same queries alike.
import type { ExtractedEntities } from '../../schemas/generated/types.ts';

export type DocumentStatus = 'queued' | 'done' | 'rejected';

/** What the upload API knows when it accepts a document. */
export interface UploadMeta {
  documentId: string;
  filename: string;
  contentType: string;
  sizeBytes: number;
  sha256: string;
  /** Where the bytes are kept (the blob store), whether or not the record carried them inline. */
  blobUri: string | null;
  uploadedAt: number;
}

export interface DocumentRecord {
  document_id: string;
  status: DocumentStatus;
  /** Null when the result arrived through the topic without this index seeing the upload. */
  filename: string | null;
  content_type: string | null;
  size_bytes: number | null;
  sha256: string | null;
  blob_uri: string | null;
  uploaded_at: string | null;
  updated_at: string;
  /** Why the document was rejected (the dead letter's reason); null otherwise. */
  reason: string | null;
  /** The extraction result as produced on docs.entities.v1; null until done. */
  result: ExtractedEntities | null;
}

export interface SearchQuery {
  /** Part of a party's name, compared normalised (case, accents, punctuation ignored). */
  party?: string;
  /** A jurisdiction code ('US-NY'; 'US' matches every US-*) or a name ('New York'). */
  law?: string;
  /** Contract type id, e.g. 'services'. */
  type?: string;
  /** Inclusive ISO dates; a document matches when one of its dates (of `dateLabel`, else any) lies within. */
  from?: string;
  to?: string;
  dateLabel?: string;
  /** A document matches when one of its amounts lies within (in `currency` when given). */
  amountMin?: number;
  amountMax?: number;
  currency?: string;
  /** Full-text words, all of which must occur (stemmed). */
  q?: string;
  status?: DocumentStatus;
  limit?: number;
  offset?: number;
}

export interface SearchHit {
  document_id: string;
  filename: string | null;
  status: DocumentStatus;
  uploaded_at: string | null;
  extracted_at: string | null;
  contract_type: string | null;
  needs_review: boolean | null;
  parties: string[];
  governing_law: string[];
  /** Words around the full-text match, when `q` was given. */
  snippet: string | null;
}

export interface SearchResult {
  total: number;
  limit: number;
  offset: number;
  documents: SearchHit[];
}

export interface DocumentIndex {
  /** Says which backend and where, for logs. */
  readonly description: string;
  /** Stable id of this index's storage, created with it: names the API's consumer group (documents-api.ts). */
  indexId(): Promise<string>;
  upsertUpload(meta: UploadMeta): Promise<void>;
  /** Records a result; an older result (by extracted_at) than the one held is ignored. */
  upsertResult(result: ExtractedEntities, fullText: string | null): Promise<void>;
  /** Marks a document rejected, unless a result is already held (a late duplicate dead letter). */
  markRejected(documentId: string, reason: string, at: number): Promise<void>;
  get(documentId: string): Promise<DocumentRecord | null>;
  search(query: SearchQuery): Promise<SearchResult>;
  close(): Promise<void>;
}

export const DEFAULT_SEARCH_LIMIT = 20;
export const MAX_SEARCH_LIMIT = 100;

/** One searchable fact of a document, as both backends store it. */
export interface EntityRow {
  label: string;
  text: string;
  normalized: string | null;
  /** PARTY: normalised name; GOVERNING_LAW: upper-case jurisdiction code; *_DATE: ISO date; else null. */
  searchKey: string | null;
  amount: number | null;
  currency: string | null;
}

/** Lower case, accents and punctuation dropped, spaces collapsed: "Acme, Inc." and "ACME INC" compare equal. */
export function normalizeName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
/** '1250.00 EUR' (the rules' normalised amount: a decimal and an ISO 4217 code). */
const NORMALIZED_AMOUNT = /^(-?\d+(?:\.\d+)?) ([A-Z]{3})$/;
/** 'US', 'US-NY', 'GB-ENG': ISO 3166-1 alpha-2 with an optional subdivision. */
export const JURISDICTION_CODE = /^[A-Za-z]{2}(-[A-Za-z0-9]{1,3})?$/;

export function entityRows(result: ExtractedEntities): EntityRow[] {
  return result.entities.map((e) => {
    let searchKey: string | null = null;
    let amount: number | null = null;
    let currency: string | null = null;
    if (e.label === 'PARTY') searchKey = normalizeName(e.normalized ?? e.text);
    else if (e.label === 'GOVERNING_LAW') searchKey = e.normalized && JURISDICTION_CODE.test(e.normalized) ? e.normalized.toUpperCase() : null;
    else if (e.label.endsWith('_DATE')) searchKey = e.normalized && ISO_DATE.test(e.normalized) ? e.normalized : null;
    else if (e.label === 'AMOUNT' && e.normalized) {
      const m = NORMALIZED_AMOUNT.exec(e.normalized);
      if (m) {
        amount = Number(m[1]);
        currency = m[2];
      }
    }
    return { label: e.label, text: e.text, normalized: e.normalized, searchKey, amount, currency };
  });
}

/** Full-text words of a query: letters and digits only, so no user input reaches a query parser as syntax. */
export function queryWords(q: string): string[] {
  return (q.normalize('NFKC').match(/[\p{L}\p{N}]+/gu) ?? []).slice(0, 32);
}

/** Distinct values in order, for the hit's parties / governing law lists. */
export function distinct(values: (string | null)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== null && v !== ''))];
}

/** The cleaned page texts of text_blob_uri (a JSON array of strings, one per page) as one text. */
export function pageTextsToFullText(json: string): string {
  const pages: unknown = JSON.parse(json);
  if (!Array.isArray(pages) || !pages.every((p) => typeof p === 'string')) throw new Error('text blob is not a JSON array of page strings');
  return pages.join('\n\n');
}

export const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : new Date(Number(ms)).toISOString());
