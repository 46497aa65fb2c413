// Links PARTY entities to parties: a contract defines a short name for each party right after
// its legal name — 'ABC Corp., a Delaware corporation (the "Company")', '(hereinafter referred to
// as "CONSULTANT")' — and later calls it by that role. Every PARTY entity, whether it is the legal
// name or a role, gets the legal name as its normalized value; a party's roles and spellings are
// grouped.
import type { NerEntity } from './types.ts';
import { hasLegalForm, isGenericRole, normalizePartyName, partyKey, roleName } from './party-names.ts';

export interface PartyGroup {
  name: string; // normalized legal name
  roles: string[]; // defined terms ("Company", "Licensee")
  aliases: string[]; // other spellings found as entities
  entityIndexes: number[]; // indexes into the entities given to linkParties
}
export interface PartyLink {
  index: number; // into the entities given to linkParties
  normalized: string | null; // the party's legal name; null when it cannot be linked
  role: string | null; // the defined term, when the entity is (or is defined as) one
  problems: string[];
  notes: string[];
}

interface Definition { at: number; end: number; roles: string[]; collective: boolean }

const QUOTED = /["“”]([^"“”]{1,60})["“”]/g;
// '(the "Company")', '("Distributor")', '(each and both of them "Recipient")', '(hereinafter referred to as "X")'
const PAREN_DEFINITION = /\(([^()]{0,160}?["“][^"“”]{1,60}["”][^()]{0,80}?)\)/g;
const HEREINAFTER = /\bhereinafter(?:\s+(?:referred\s+to\s+as|called|known\s+as))?\s+(?:the\s+)?(["“][^"“”]{1,60}["”])/gi;

/** A defined term: a short name, not a fragment between two mismatched quotes. */
// Defined terms every contract has that never name a party.
const NOT_PARTY_TERMS = /^(?:agreement|effective date|execution date|term|initial term|territory|products?|services?|exhibits?|schedules?|confidential information|affiliates?)$/i;

function isRoleLike(role: string): boolean {
  return role !== '' && !isGenericRole(role) && !NOT_PARTY_TERMS.test(role) && role.split(' ').length <= 6 && /^[\p{L}\p{N}][\p{L}\p{N}\s.&'’,/-]*$/u.test(role);
}

/** Every definition of a party role in the text, in text order. */
export function findDefinitions(text: string): Definition[] {
  const defs: Definition[] = [];
  for (const re of [PAREN_DEFINITION, HEREINAFTER]) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m !== null; m = re.exec(text)) {
      if (defs.some((d) => m!.index < d.end && m!.index + m![0].length > d.at)) continue;
      if (/^\s*this\b/i.test(m[1])) continue; // (this "Agreement") defines the document, not a party
      const roles = [...m[1].matchAll(QUOTED)].map((q) => roleName(q[1])).filter(isRoleLike);
      if (roles.length === 0) continue;
      defs.push({ at: m.index, end: m.index + m[0].length, roles, collective: /\b(?:each|both|collectively|together|jointly)\b/i.test(m[1]) });
    }
  }
  return defs.sort((a, b) => a.at - b.at);
}

const DEFINITION_REACH = 500; // characters between a legal name and its definition (descriptors, addresses, signatories)
const ABBREVIATIONS = /^(?:inc|corp|ltd|co|llc|no|st|ave|blvd|rd|dr|ste|mr|mrs|ms|dept|u\.s|s\.a|n\.v|b\.v|[a-z])$/i;

/** A sentence ends between a name and a definition: the definition belongs to something else. */
function crossesSentence(segment: string): boolean {
  for (const m of segment.matchAll(/([\w.]+)\.\s+[A-Z]/g)) {
    // "P.O. Box", "SW. Calgary", "Mr. Carlos": abbreviations, not sentence ends.
    if (!ABBREVIATIONS.test(m[1]) && !m[1].includes('.') && !/^[A-Z]{1,3}$/.test(m[1])) return true;
  }
  return false;
}

/**
 * Links PARTY entities (other labels are ignored) to parties, using the definitions in `text`.
 * Entities must carry offsets into `text`.
 */
export function linkParties(entities: NerEntity[], text: string): { links: PartyLink[]; parties: PartyGroup[] } {
  const defs = findDefinitions(text);
  const partyIdx = entities.map((e, i) => ({ e, i })).filter(({ e }) => e.label === 'PARTY').sort((a, b) => a.e.start - b.e.start);
  const roleKeys = new Set(defs.flatMap((d) => d.roles.map((r) => r.toLowerCase())));
  // An entity is a role mention when its text is a defined term or it sits inside a definition.
  // "the Licensee" with no legal-form suffix reads as a role even when its definition was not found.
  const theRole = (e: NerEntity) => (/^the\s/i.test(e.text) || /\bthe\s+$/i.test(text.slice(Math.max(0, e.start - 4), e.start)))
    && /^\S+(?:\s\S+)?$/.test(roleName(e.text)) && !hasLegalForm(e.text); // "the University of Iowa" is a name
  const isRole = ({ e }: { e: NerEntity }) => roleKeys.has(roleName(e.text).toLowerCase()) || defs.some((d) => e.start >= d.at && e.end <= d.end) || theRole(e);
  // "the Parties", "each Party": every party at once, never one of them.
  const generic = new Set(partyIdx.filter(({ e }) => isGenericRole(roleName(e.text))).map(({ i }) => i));
  const names = partyIdx.filter((p) => !generic.has(p.i) && !isRole(p));

  const groups: PartyGroup[] = [];
  const groupOfName = new Map<number, PartyGroup>(); // entity index -> group
  const groupOfRole = new Map<string, PartyGroup[]>(); // lower-case role -> groups it names
  for (const { e, i } of names) {
    const name = normalizePartyName(e.text);
    let group = groups.find((g) => partyKey(g.name) === partyKey(name));
    if (!group) { group = { name, roles: [], aliases: [], entityIndexes: [] }; groups.push(group); }
    group.entityIndexes.push(i);
    if (e.text.trim() !== group.name && !group.aliases.includes(e.text.trim())) group.aliases.push(e.text.trim());
    groupOfName.set(i, group);
  }
  // Each definition names the closest legal name(s) before it that no earlier definition took;
  // "each"/"both"/"collectively" definitions name all of them ("A and B (each a "Recipient")").
  const defined = new Set<number>();
  for (const d of defs) {
    const before = names.filter(({ e, i }) => e.end <= d.at && d.at - e.end <= DEFINITION_REACH && !defined.has(i)
      && !defs.some((other) => other !== d && other.at >= e.end && other.at < d.at) && !crossesSentence(text.slice(e.end, d.at)));
    const named = d.collective ? before : before.slice(-1);
    for (const { i } of named) {
      defined.add(i);
      const group = groupOfName.get(i) as PartyGroup;
      for (const role of d.roles) {
        if (!group.roles.includes(role)) group.roles.push(role);
        const list = groupOfRole.get(role.toLowerCase()) ?? [];
        if (!list.includes(group)) list.push(group);
        groupOfRole.set(role.toLowerCase(), list);
      }
    }
  }

  const links: PartyLink[] = partyIdx.map(({ e, i }) => {
    const problems: string[] = [];
    const notes: string[] = [];
    if (generic.has(i)) return { index: i, normalized: null, role: roleName(e.text), problems, notes: ['names all parties together'] };
    const named = groupOfName.get(i);
    if (named) {
      if (!/[\p{L}\p{N}]/u.test(named.name)) problems.push(`party name is redacted or empty: '${e.text.trim()}'`);
      return { index: i, normalized: named.name, role: named.roles[0] ?? null, problems, notes };
    }
    // A span may hold the definition itself ('collectively, "MusclePharm" or the "Company"'):
    // its quoted terms are the roles it mentions.
    const quoted = [...e.text.matchAll(QUOTED)].map((q) => roleName(q[1])).filter((r) => groupOfRole.has(r.toLowerCase()));
    const role = quoted[0] ?? roleName(e.text);
    const targets = [...new Set(quoted.length > 0 ? quoted.flatMap((r) => groupOfRole.get(r.toLowerCase()) ?? []) : groupOfRole.get(role.toLowerCase()) ?? [])];
    if (targets.length === 1) {
      const group = targets[0];
      group.entityIndexes.push(i);
      return { index: i, normalized: group.name, role, problems, notes };
    }
    if (targets.length > 1) {
      // "A and B (each and both of them "Recipient")": the role names them together.
      for (const group of targets) group.entityIndexes.push(i);
      notes.push(`'${role}' is defined for several parties together`);
      return { index: i, normalized: targets.map((g) => g.name).join('; '), role, problems, notes };
    }
    return { index: i, normalized: null, role, problems: [`role '${role}' is not linked to a party's legal name (no PARTY entity before its definition)`], notes };
  });
  return { links: links.sort((a, b) => a.index - b.index), parties: groups };
}
