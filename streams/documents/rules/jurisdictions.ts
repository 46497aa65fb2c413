// Names of legal jurisdictions -> codes. Countries are ISO 3166-1 alpha-2, enumerated from the
// runtime's ICU region names (no hand-kept country list); subdivisions that have their own law
// (US states, Canadian provinces, Australian states, UK jurisdictions) are ISO 3166-2 codes listed
// here. England and Wales is one legal system: 'GB-EAW' (the ISO 3166-2:GB code for it).
import { escapeRegExp } from '../document-text.ts';

export interface Jurisdiction {
  code: string; // 'US-NY', 'GB-EAW', 'CA-ON', 'HK', 'DE'
  name: string; // display name, e.g. 'New York, United States'
  country: string; // ISO 3166-1 alpha-2 of the country it belongs to
}

const US_STATES: Record<string, string> = {
  AL: 'Alabama', AK: 'Alaska', AZ: 'Arizona', AR: 'Arkansas', CA: 'California', CO: 'Colorado', CT: 'Connecticut',
  DE: 'Delaware', FL: 'Florida', GA: 'Georgia', HI: 'Hawaii', ID: 'Idaho', IL: 'Illinois', IN: 'Indiana', IA: 'Iowa',
  KS: 'Kansas', KY: 'Kentucky', LA: 'Louisiana', ME: 'Maine', MD: 'Maryland', MA: 'Massachusetts', MI: 'Michigan',
  MN: 'Minnesota', MS: 'Mississippi', MO: 'Missouri', MT: 'Montana', NE: 'Nebraska', NV: 'Nevada', NH: 'New Hampshire',
  NJ: 'New Jersey', NM: 'New Mexico', NY: 'New York', NC: 'North Carolina', ND: 'North Dakota', OH: 'Ohio', OK: 'Oklahoma',
  OR: 'Oregon', PA: 'Pennsylvania', RI: 'Rhode Island', SC: 'South Carolina', SD: 'South Dakota', TN: 'Tennessee',
  TX: 'Texas', UT: 'Utah', VT: 'Vermont', VA: 'Virginia', WA: 'Washington', WV: 'West Virginia', WI: 'Wisconsin',
  WY: 'Wyoming', DC: 'District of Columbia', PR: 'Puerto Rico',
};
const CA_PROVINCES: Record<string, string> = {
  ON: 'Ontario', QC: 'Quebec', BC: 'British Columbia', AB: 'Alberta', MB: 'Manitoba', SK: 'Saskatchewan',
  NS: 'Nova Scotia', NB: 'New Brunswick', NL: 'Newfoundland and Labrador', PE: 'Prince Edward Island',
  NT: 'Northwest Territories', NU: 'Nunavut', YT: 'Yukon',
};
const AU_STATES: Record<string, string> = {
  NSW: 'New South Wales', QLD: 'Queensland', SA: 'South Australia', TAS: 'Tasmania', WA: 'Western Australia',
  ACT: 'Australian Capital Territory', NT: 'Northern Territory',
};

// Extra spellings: [pattern source, code]. Patterns are matched case-insensitively on word boundaries.
const ALIASES: [string, string][] = [
  ['United States of America', 'US'], ['United States', 'US'], ['U\\.S\\.A\\.?', 'US'], ['USA', 'US'],
  ['United Kingdom', 'GB'], ['U\\.K\\.', 'GB'], ['UK', 'GB'], ['Great Britain', 'GB'],
  ["People'?s Republic of China", 'CN'], ["People’s Republic of China", 'CN'], ['P\\.?R\\.?C\\.?', 'CN'], ['Mainland China', 'CN'],
  ['Hong Kong(?: Special Administrative Region)?', 'HK'], ['Macau', 'MO'], ['Macao', 'MO'],
  ['Republic of Korea', 'KR'], ['Korea', 'KR'], ['Russian Federation', 'RU'], ['Russia', 'RU'],
  ['Holland', 'NL'], ['Czech Republic', 'CZ'], ['Turkey', 'TR'], ['Ivory Coast', 'CI'], ['Burma', 'MM'], ['Myanmar', 'MM'],
  ['Republic of China', 'TW'], ['Viet Nam', 'VN'], ['Macedonia', 'MK'], ['Swaziland', 'SZ'],
  ['Democratic Republic of (?:the )?Congo', 'CD'], ['Republic of (?:the )?Congo', 'CG'], ['Brunei Darussalam', 'BN'], ['British Virgin Islands', 'VG'], ['BVI', 'VG'], ['Cayman Islands', 'KY'],
  ['England and Wales', 'GB-EAW'], ['England & Wales', 'GB-EAW'], ['England', 'GB-EAW'], ['Wales', 'GB-EAW'], ['English', 'GB-EAW'],
  ['Scotland', 'GB-SCT'], ['Scottish', 'GB-SCT'], ['Northern Ireland', 'GB-NIR'],
  ['Washington,? D\\.?C\\.?', 'US-DC'], ['Québec', 'CA-QC'], ['State of Victoria', 'AU-VIC'], ['Victoria,? Australia', 'AU-VIC'],
  ['Beijing', 'CN-BJ'], ['Shanghai', 'CN-SH'], ['Guangdong', 'CN-GD'],
  ['Swiss', 'CH'], ['German', 'DE'], ['French', 'FR'], ['Dutch', 'NL'], ['Irish', 'IE'], ['Israeli', 'IL'],
  ['Japanese', 'JP'], ['Chinese', 'CN'], ['Singaporean', 'SG'], ['Canadian', 'CA'], ['Italian', 'IT'], ['Spanish', 'ES'],
];
// Region codes ICU names that are not ISO 3166-1 countries (EU, UN, pseudo-regions, ...).
const NOT_COUNTRIES = new Set(['AC', 'CP', 'CQ', 'DG', 'EA', 'IC', 'TA', 'EU', 'EZ', 'UN', 'QO', 'XA', 'XB', 'XK', 'ZZ']);
// Adjectives ("English law") only count as jurisdictions right before "law".
export const ADJECTIVE_ALIASES = new Set(['English', 'Scottish', 'Swiss', 'German', 'French', 'Dutch', 'Irish', 'Israeli', 'Japanese', 'Chinese', 'Singaporean', 'Canadian', 'Italian', 'Spanish']);

const regionNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

export interface JurisdictionName { pattern: string; code: string; adjective: boolean }

function buildTable(): { names: JurisdictionName[]; byCode: Map<string, Jurisdiction> } {
  const byCode = new Map<string, Jurisdiction>();
  const names: JurisdictionName[] = [];
  for (let a = 65; a < 91; a++) {
    for (let b = 65; b < 91; b++) {
      const code = String.fromCharCode(a, b);
      const name = regionNames.of(code);
      if (name === undefined || NOT_COUNTRIES.has(code) || new Intl.Locale('und', { region: code }).region !== code) continue;
      byCode.set(code, { code, name, country: code });
      const plain = name.replace(/\s*\(.*\)$/, '').replace(/ SAR China$/, '');
      const withAnd = plain.replace(/&/g, 'and');
      for (const variant of new Set([plain, withAnd, plain.replace(/^St\. /, 'Saint '), withAnd.replace(/^St\. /, 'Saint ')])) {
        names.push({ pattern: escapeRegExp(variant), code, adjective: false });
      }
    }
  }
  const addSubdivisions = (country: string, table: Record<string, string>) => {
    const countryName = byCode.get(country)?.name ?? country;
    for (const [sub, name] of Object.entries(table)) {
      byCode.set(`${country}-${sub}`, { code: `${country}-${sub}`, name: `${name}, ${countryName}`, country });
      names.push({ pattern: escapeRegExp(name), code: `${country}-${sub}`, adjective: false });
    }
  };
  addSubdivisions('US', US_STATES);
  addSubdivisions('CA', CA_PROVINCES);
  addSubdivisions('AU', { ...AU_STATES, VIC: 'Victoria' });
  names.splice(names.findIndex((n) => n.code === 'AU-VIC'), 1); // "Victoria" alone is also a city in Canada: aliases only
  const special: Record<string, string> = {
    'GB-EAW': 'England and Wales, United Kingdom', 'GB-SCT': 'Scotland, United Kingdom', 'GB-NIR': 'Northern Ireland, United Kingdom',
    'CN-BJ': 'Beijing, China', 'CN-SH': 'Shanghai, China', 'CN-GD': 'Guangdong, China',
  };
  for (const [code, name] of Object.entries(special)) byCode.set(code, { code, name, country: code.slice(0, 2) });
  // Hong Kong and Macao have their own legal systems: their own country-level codes, within China.
  for (const code of ['HK', 'MO']) byCode.set(code, { ...(byCode.get(code) as Jurisdiction), country: 'CN' });
  for (const [pattern, code] of ALIASES) names.push({ pattern, code, adjective: ADJECTIVE_ALIASES.has(pattern) });
  // Longest names first, so "New Mexico" wins over "Mexico" and "West Virginia" over "Virginia".
  names.sort((x, y) => y.pattern.length - x.pattern.length);
  return { names, byCode };
}

export const JURISDICTIONS = buildTable();

export function jurisdictionByCode(code: string): Jurisdiction | undefined {
  return JURISDICTIONS.byCode.get(code);
}
