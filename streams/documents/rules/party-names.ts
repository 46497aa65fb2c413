// Party names as written -> one display form: quotes, brackets and descriptors trimmed,
// whitespace collapsed, legal-form suffixes spelled one way ("Inc" -> "Inc.", "L.L.C." -> "LLC").
// The words "Incorporated", "Corporation" and "Limited" are kept: they are part of the registered
// name and differ from their abbreviations on a company register.

// [pattern matching the suffix as written, canonical spelling]
const SUFFIXES: [RegExp, string][] = [
  [/^inc\.?$/i, 'Inc.'], [/^corp\.?$/i, 'Corp.'], [/^ltd\.?$/i, 'Ltd.'], [/^co\.?$/i, 'Co.'],
  [/^l\.?l\.?c\.?$/i, 'LLC'], [/^l\.?l\.?p\.?$/i, 'LLP'], [/^l\.?p\.?$/i, 'L.P.'], [/^p\.?l\.?c\.?$/i, 'PLC'],
  [/^s\.a\.?$/i, 'S.A.'], [/^n\.v\.?$/i, 'N.V.'], [/^b\.v\.?$/i, 'B.V.'], [/^a\.?g\.?$/, 'AG'], [/^gmbh$/i, 'GmbH'],
  [/^pte\.?$/i, 'Pte.'], [/^pty\.?$/i, 'Pty'], [/^s\.?p\.?a\.?$/i, 'S.p.A.'], [/^s\.?a\.?r\.?l\.?$/i, 'S.à r.l.'],
];
const LEGAL_FORM_WORDS = 'corporation|company|limited liability company|limited partnership|general partnership|partnership|business trust|trust|bank|association|corporate body|societe anonyme|sociedad anonima|entity|organization|organisation|individual';
const DESCRIPTOR_RE = new RegExp(`,?\\s+(?:an?|the)\\s+(?:[\\w.&'-]+\\s+){0,6}?(?:${LEGAL_FORM_WORDS})\\b.*$`, 'i');

function canonicalSuffix(token: string, upper: boolean): string | null {
  for (const [re, canonical] of SUFFIXES) {
    if (re.test(token)) return upper && canonical !== 'GmbH' ? canonical.toUpperCase() : canonical;
  }
  return null;
}

/**
 * Normalizes a party name for display and search. "  “ADAMS GOLF, LTD”  " -> "ADAMS GOLF, LTD.";
 * "ABC Corp, a Delaware corporation" -> "ABC Corp."; "Empirical Ventures, Inc" -> "Empirical Ventures, Inc.".
 */
export function normalizePartyName(raw: string): string {
  let name = raw.normalize('NFC').replace(/[\u00a0\u2007\u202f]/g, ' ').replace(/\s+/g, ' ').trim();
  name = name.replace(/\s*\((?:formerly|f\/k\/a|previously)[^)]*\)/gi, ''); // former names are aliases, not the name
  name = name.replace(/\s+(?:d\/b\/a|dba|doing business as)\s.*$/i, '');
  name = name.replace(DESCRIPTOR_RE, '');
  name = name.replace(/^[A-Za-z][\w /-]{0,30}:\s+(?=\S)/, ''); // a cover-page label: "Producer: Fulucai Productions Ltd."
  // Quotes, brackets and stray punctuation around the name; "Inc." keeps its own period below.
  for (let previous = ''; previous !== name;) {
    previous = name;
    name = name.replace(/^[\s"'“”‘’«»([{]+/, '').replace(/[\s"'“”‘’«»)\]},;:]+$/, '');
    if (/^\(.*\)$|^\[.*\]$/.test(name)) name = name.slice(1, -1);
  }
  const letters = name.replace(/[^A-Za-z]/g, '');
  const upper = letters.length > 0 && letters === letters.toUpperCase();
  const tokens = name.split(' ');
  // Suffixes can stack ("Pte. Ltd.", "Co., Ltd."): canonicalise the trailing run of them.
  for (let i = tokens.length - 1; i > 0; i--) {
    const trailingComma = tokens[i].endsWith(',') ? ',' : '';
    const canonical = canonicalSuffix(tokens[i].replace(/,$/, ''), upper);
    if (canonical === null) break;
    tokens[i] = canonical + trailingComma;
  }
  return tokens.join(' ').replace(/\.\.$/, '.');
}

/** Ends in a legal form ("Inc.", "Corporation", "GmbH"): a registered name, not a role. */
export function hasLegalForm(name: string): boolean {
  const tokens = roleName(name).split(' ');
  const last = normalizePartyName(tokens.join(' ')).split(' ').pop() ?? '';
  if (tokens.length < 2) return false; // "Company" alone is the usual role, not a name
  return canonicalSuffix(last.replace(/,$/, ''), false) !== null || /^(?:incorporated|corporation|limited|company|aktiengesellschaft|partnership|trust|bank)$/i.test(last);
}

/** Key for deciding that two spellings are the same party: case, punctuation and suffix spelling ignored. */
export function partyKey(name: string): string {
  return normalizePartyName(name).toLowerCase().replace(/[^\p{L}\p{N}&]+/gu, ' ').trim();
}

const GENERIC_ROLES = new Set(['party', 'parties', 'each party', 'a party', 'the parties', 'both parties', 'party hereto', 'parties hereto']);

/** A defined term as a role name: quotes and a leading "the" dropped ("the “Company”" -> "Company"). */
export function roleName(raw: string): string {
  return raw.replace(/[\u00a0]/g, ' ').replace(/^[\s"'“”‘’(]+|[\s"'“”‘’),.;:]+$/g, '').replace(/^the\s+/i, '').replace(/^[\s"'“”‘’]+/, '').replace(/\s+/g, ' ');
}

/** "Party", "the Parties": defined terms that name every party, never one of them. */
export function isGenericRole(role: string): boolean {
  return GENERIC_ROLES.has(role.toLowerCase());
}
