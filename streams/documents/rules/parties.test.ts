// Party names and role linking on preambles from CUAD contracts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { linkParties } from './parties.ts';
import { normalizePartyName, partyKey } from './party-names.ts';
import type { NerEntity } from './types.ts';

/** PARTY entities at the n-th occurrence of each snippet, as the NER model would report them. */
function partiesIn(text: string, snippets: [string, number?][]): NerEntity[] {
  return snippets.map(([snippet, occurrence = 1]) => {
    let start = -1;
    for (let k = 0; k < occurrence; k++) start = text.indexOf(snippet, start + 1);
    assert.ok(start >= 0, `fixture: '${snippet}' #${occurrence} not in text`);
    return { label: 'PARTY', start, end: start + snippet.length, text: snippet, confidence: 0.9 };
  });
}

test('party names: quotes, descriptors and whitespace trimmed, suffixes spelled one way', () => {
  const cases: [string, string][] = [
    ['  “ADAMS GOLF, LTD”  ', 'ADAMS GOLF, LTD.'],
    ['ABC Corp, a Delaware corporation', 'ABC Corp.'],
    ['Empirical Ventures, Inc', 'Empirical Ventures, Inc.'],
    ['Marine MP, L.L.C.', 'Marine MP, LLC'],
    ['deltathree.com, Inc. (formerly known as Delta Three, Inc.)', 'deltathree.com, Inc.'],
    ['TIME LIFE, INC. d/b/a Time Life Music', 'TIME LIFE, INC.'],
    ['SIEMENS AKTIENGESELLSCHAFT, a corporation formed under the laws of the Federal Republic of Germany', 'SIEMENS AKTIENGESELLSCHAFT'],
    ['Acme   Co., Ltd', 'Acme Co., Ltd.'],
    ['International Business Machines Corporation', 'International Business Machines Corporation'], // not "Corp."
    ['(Howmedica Osteonics Corp)', 'Howmedica Osteonics Corp.'],
    ['Producer: Fulucai Productions Ltd.', 'Fulucai Productions Ltd.'], // cover-page label
    ['The buyer/End-User: Shenzhen LOHAS Supply Chain Management Co., Ltd.', 'Shenzhen LOHAS Supply Chain Management Co., Ltd.'],
  ];
  for (const [raw, expected] of cases) assert.equal(normalizePartyName(raw), expected, raw);
  assert.equal(partyKey('Empirical Ventures, Inc'), partyKey('EMPIRICAL VENTURES INC.'));
  assert.notEqual(partyKey('Accuray Inc.'), partyKey('Accuray Incorporated')); // different registered words
});

test('roles defined in parentheses link to the legal name before them (Accuray / Siemens preamble)', () => {
  const text = 'This Multiple LINAC and Multi-Modality Distributor Agreement ("Agreement") is entered into by and between ACCURAY INCORPORATED, a Delaware corporation with its executive offices located at 1310 Chesapeake Terrace, Sunnyvale, California 94089, USA ("Accuray"), and SIEMENS AKTIENGESELLSCHAFT, a corporation formed under the laws of the Federal Republic of Germany, with its registered offices located at Berlin and Munich ("Siemens"), as of June 8, 2010 ("Effective Date"). Accuray shall supply the Products and Siemens shall pay for them.';
  const entities = partiesIn(text, [['ACCURAY INCORPORATED'], ['Accuray'], ['SIEMENS AKTIENGESELLSCHAFT'], ['Siemens'], ['Accuray', 2], ['Siemens', 2]]);
  const { links, parties } = linkParties(entities, text);
  assert.deepEqual(links.map((l) => l.normalized), ['ACCURAY INCORPORATED', 'ACCURAY INCORPORATED', 'SIEMENS AKTIENGESELLSCHAFT', 'SIEMENS AKTIENGESELLSCHAFT', 'ACCURAY INCORPORATED', 'SIEMENS AKTIENGESELLSCHAFT']);
  assert.deepEqual(links.map((l) => l.role), ['Accuray', 'Accuray', 'Siemens', 'Siemens', 'Accuray', 'Siemens']);
  assert.deepEqual(parties.map((p) => [p.name, p.roles, p.entityIndexes.sort()]), [
    ['ACCURAY INCORPORATED', ['Accuray'], [0, 1, 4]],
    ['SIEMENS AKTIENGESELLSCHAFT', ['Siemens'], [2, 3, 5]],
  ]);
  assert.ok(links.every((l) => l.problems.length === 0));
});

test('"hereinafter referred to as" definitions (Adams Golf endorsement)', () => {
  const text = 'This Agreement is entered into on January 13, 2005 between professional golfer, TOM WATSON, (hereinafter referred to as "CONSULTANT") and ADAMS GOLF, LTD. (hereinafter referred to as "ADAMS GOLF"). WHEREAS, ADAMS GOLF desires to obtain the right to use the name of CONSULTANT.';
  const entities = partiesIn(text, [['TOM WATSON'], ['ADAMS GOLF, LTD.'], ['ADAMS GOLF', 3], ['CONSULTANT', 2]]);
  const { links, parties } = linkParties(entities, text);
  assert.deepEqual(links.map((l) => l.normalized), ['TOM WATSON', 'ADAMS GOLF, LTD.', 'ADAMS GOLF, LTD.', 'TOM WATSON']);
  assert.deepEqual(parties.map((p) => p.roles), [['CONSULTANT'], ['ADAMS GOLF']]);
});

test('several legal names defined together share the role; multiple roles and "the" are handled', () => {
  const text = 'by and between [ * * * ] (the "Provider"), and TELCOSTAR PTE, LTD., a company organized and existing under the laws of Singapore and Ability Computer & Software Industries Ltd, a company organized and existing under the laws of the State of Israel (each and both of them "Recipient"). MusclePharm Corporation, a Nevada corporation ("MusclePharm" or "Company"). The Company shall pay the Recipient.';
  const entities = partiesIn(text, [['[ * * * ]'], ['TELCOSTAR PTE, LTD.'], ['Ability Computer & Software Industries Ltd'], ['MusclePharm Corporation'], ['the Recipient'], ['The Company']]);
  const { links, parties } = linkParties(entities, text);
  assert.equal(links[1].role, 'Recipient');
  assert.equal(links[2].role, 'Recipient');
  assert.equal(links[4].normalized, 'TELCOSTAR PTE., LTD.; Ability Computer & Software Industries Ltd.');
  assert.match(links[4].notes.join(' '), /defined for several parties together/);
  assert.equal(links[5].normalized, 'MusclePharm Corporation');
  assert.deepEqual(parties.find((p) => p.name === 'MusclePharm Corporation')?.roles, ['MusclePharm', 'Company']);
  assert.deepEqual(links[0].problems, ["party name is redacted or empty: '[ * * * ]'"]);
});

test('a role without a linked legal name is a problem; a sentence break stops a definition reaching back', () => {
  const text = 'ACME CORP. IS CONFIDENTIAL. SERVICES AGREEMENT This Services Agreement (the "Provider Agreement") is made. The Licensee shall pay ("Licensor").';
  const entities = partiesIn(text, [['ACME CORP.'], ['Licensee']]);
  const { links, parties } = linkParties(entities, text);
  assert.deepEqual(parties[0].roles, []); // the definition after "IS CONFIDENTIAL. SERVICES" is not Acme's
  assert.equal(links[1].normalized, null);
  assert.match(links[1].problems[0], /role 'Licensee' is not linked to a party's legal name/);
  // "The Quantum Group Inc." starts with "The" but carries a legal form: a name, not a role.
  const named = 'and The Quantum Group Inc. ("Customer"). The Customer agrees.';
  const link = linkParties(partiesIn(named, [['The Quantum Group Inc.'], ['The Customer']]), named).links;
  assert.deepEqual(link.map((l) => [l.normalized, l.role]), [['The Quantum Group Inc.', 'Customer'], ['The Quantum Group Inc.', 'Customer']]);
  const undefinedRole = 'ACME Inc. shall deliver to the Company.';
  assert.match(linkParties(partiesIn(undefinedRole, [['ACME Inc.'], ['the Company']]), undefinedRole).links[1].problems[0], /role 'Company' is not linked/);
});

test('spellings of the same name group into one party; generic "Party"/"Parties" never define a party', () => {
  const text = 'Empirical Ventures, Inc ("Licensee") and PSiTech Corporation ("Licensor") (each a "Party" and together the "Parties"). EMPIRICAL VENTURES, INC. agrees.';
  const entities = partiesIn(text, [['Empirical Ventures, Inc'], ['PSiTech Corporation'], ['EMPIRICAL VENTURES, INC.']]);
  const { links, parties } = linkParties(entities, text);
  assert.equal(parties.length, 2);
  assert.deepEqual(parties[0].entityIndexes, [0, 2]);
  assert.deepEqual(parties[0].aliases, ['Empirical Ventures, Inc', 'EMPIRICAL VENTURES, INC.']);
  assert.equal(links[2].normalized, 'Empirical Ventures, Inc.');
  assert.deepEqual(parties[1].roles, ['Licensor']);
});

test('"the Parties" names all parties: no party of its own, no problem', () => {
  const text = 'ACME Inc. ("Seller") and Beta LLC ("Buyer") (each a "Party" and together the "Parties"). The Parties agree.';
  const { links, parties } = linkParties(partiesIn(text, [['ACME Inc.'], ['Beta LLC'], ['Parties', 2]]), text);
  assert.equal(parties.length, 2);
  assert.deepEqual([links[2].normalized, links[2].problems, links[2].notes], [null, [], ['names all parties together']]);
});

test('entities of other labels are ignored', () => {
  const { links, parties } = linkParties([{ label: 'AMOUNT', start: 0, end: 3, text: '$10', confidence: 1 }], '$10');
  assert.deepEqual(links, []);
  assert.deepEqual(parties, []);
});

test('CUAD preambles: cover-page names, P.O. boxes, long signatory clauses, names starting with "The"', () => {
  const cover = 'ACCURAY INCORPORATED MULTIPLE LINAC DISTRIBUTOR AGREEMENT This Distributor Agreement ("Agreement") is entered into by and between ACCURAY INCORPORATED, a Delaware corporation ("Accuray"), and Siemens AG ("Siemens").';
  const coverLinks = linkParties(partiesIn(cover, [['ACCURAY INCORPORATED'], ['ACCURAY INCORPORATED', 2], ['Accuray', 1], ['Siemens AG']]), cover);
  assert.deepEqual(coverLinks.parties.map((p) => [p.name, p.roles]), [['ACCURAY INCORPORATED', ['Accuray']], ['Siemens AG', ['Siemens']]]); // "Agreement" never names a party
  const poBox = 'and Rare Element Resources Ltd., a British Columbia Corporation having a principal place of business at P.O. Box 271049, Littleton, Colorado 80127 (the "Company") (Investor and Company each a "Party" and together the "Parties"), agree as follows.';
  assert.deepEqual(linkParties(partiesIn(poBox, [['Rare Element Resources Ltd.']]), poBox).parties[0].roles, ['Company']);
  const signatory = 'AND ESPACIO INFORMATION TECHNOLOGY, SA., a public limited company with place of business in P° de la Castellana, N° 259, 28046, Madrid, SPAIN, and represented by Mr. Carlos Lafitte as Chief Executive, in virtue of his powers, currently in force, conferred to him the 23rd of January of 1996 (Protocol No. 134), before Mr. Jose Maria Lucena Conde, Notary Public in Madrid, (hereinafter referred to as "EIT").';
  assert.deepEqual(linkParties(partiesIn(signatory, [['ESPACIO INFORMATION TECHNOLOGY, SA.']]), signatory).parties[0].roles, ['EIT']);
  const university = 'between ArTara Therapeutics, Inc. ("ArTara") and The University of Iowa ("University"). The University shall license.';
  const uni = linkParties(partiesIn(university, [['The University of Iowa'], ['The University', 2]]), university);
  assert.deepEqual(uni.links.map((l) => l.normalized), ['The University of Iowa', 'The University of Iowa']);
});
