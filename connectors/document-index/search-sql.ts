// The WHERE clause of a search, shared by both backends so they filter alike; only the placeholder
// style and the full-text predicate differ (FTS5 MATCH vs tsvector @@). Every value is a bound
// parameter; LIKE patterns are built from normalised text, which holds no wildcard characters.
import { JURISDICTION_CODE, normalizeName, queryWords, type SearchQuery } from './document-index.ts';

export interface Dialect {
  /** Placeholder for the n-th parameter (1-based): '?' for SQLite, '$n' for PostgreSQL. */
  param(n: number): string;
  /** A predicate on the `d` (documents) row that is true when all `words` occur in its full text. */
  fullText(placeholder: string): string;
  /** The bound value for fullText's placeholder. */
  fullTextValue(words: string[]): string;
}

export interface SearchSql {
  where: string;
  params: unknown[];
  /** The full-text words, when the query has any (for snippets). */
  words: string[];
}

/** Thrown for a query that cannot be run as given; the API turns it into a 400. */
export class SearchQueryError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SearchQueryError';
  }
}

export function buildSearchSql(q: SearchQuery, dialect: Dialect): SearchSql {
  const clauses: string[] = [];
  const params: unknown[] = [];
  const p = (value: unknown) => {
    params.push(value);
    return dialect.param(params.length);
  };
  const entity = (condition: string) => `EXISTS (SELECT 1 FROM document_entities e WHERE e.document_id = d.document_id AND ${condition})`;

  if (q.status) clauses.push(`d.status = ${p(q.status)}`);
  if (q.type) clauses.push(`d.contract_type = ${p(q.type.trim().toLowerCase())}`);
  if (q.party !== undefined) {
    const name = normalizeName(q.party);
    if (!name) throw new SearchQueryError(`party ${JSON.stringify(q.party)} has no letters or digits to search for`);
    clauses.push(entity(`e.label = 'PARTY' AND e.search_key LIKE ${p(`%${name}%`)}`));
  }
  if (q.law !== undefined) {
    const law = q.law.trim();
    if (JURISDICTION_CODE.test(law)) {
      const code = law.toUpperCase();
      // 'US' matches 'US' and every 'US-xx'; 'US-NY' only itself.
      clauses.push(entity(`e.label = 'GOVERNING_LAW' AND (e.search_key = ${p(code)} OR e.search_key LIKE ${p(`${code}-%`)})`));
    } else {
      const name = normalizeName(law);
      if (!name) throw new SearchQueryError(`law ${JSON.stringify(q.law)} is neither a jurisdiction code (US-NY) nor a name`);
      clauses.push(entity(`e.label = 'GOVERNING_LAW' AND e.text_key LIKE ${p(`%${name}%`)}`));
    }
  }
  if (q.from !== undefined || q.to !== undefined || q.dateLabel !== undefined) {
    const conditions = [q.dateLabel ? `e.label = ${p(q.dateLabel.toUpperCase())}` : `e.label LIKE '%\\_DATE' ESCAPE '\\'`, 'e.search_key IS NOT NULL'];
    if (q.from !== undefined) conditions.push(`e.search_key >= ${p(q.from)}`);
    if (q.to !== undefined) conditions.push(`e.search_key <= ${p(q.to)}`);
    clauses.push(entity(conditions.join(' AND ')));
  }
  if (q.amountMin !== undefined || q.amountMax !== undefined || q.currency !== undefined) {
    const conditions = [`e.label = 'AMOUNT'`, 'e.amount IS NOT NULL'];
    if (q.amountMin !== undefined) conditions.push(`e.amount >= ${p(q.amountMin)}`);
    if (q.amountMax !== undefined) conditions.push(`e.amount <= ${p(q.amountMax)}`);
    if (q.currency !== undefined) conditions.push(`e.currency = ${p(q.currency.toUpperCase())}`);
    clauses.push(entity(conditions.join(' AND ')));
  }
  let words: string[] = [];
  if (q.q !== undefined) {
    words = queryWords(q.q);
    if (words.length === 0) throw new SearchQueryError(`q ${JSON.stringify(q.q)} has no words to search for`);
    clauses.push(dialect.fullText(p(dialect.fullTextValue(words))));
  }
  return { where: clauses.length ? clauses.join(' AND ') : 'TRUE', params, words };
}
