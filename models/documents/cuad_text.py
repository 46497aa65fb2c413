"""Text helpers shared by the CUAD annotation scripts: stems, contract types, whitespace-tolerant search.

CUAD's master_clauses.csv quotes span texts whose whitespace (newlines, runs of spaces) and quote
characters differ from full_contract_txt/*.txt, so spans are searched in a normalised copy of the
text and mapped back to offsets in the original string.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# One character -> one character, so offsets survive the translation.
_CHAR_FOLD = str.maketrans({
    '\u2018': "'", '\u2019': "'", '\u201a': "'", '\u201b': "'", '\u02bc': "'", '\u2032': "'",
    '\u201c': '"', '\u201d': '"', '\u201e': '"', '\u02ba': '"', '\u2033': '"',
    '\u2010': '-', '\u2011': '-', '\u2012': '-', '\u2013': '-', '\u2014': '-', '\u2212': '-',
    '\u00a0': ' ', '\u2007': ' ', '\u202f': ' ',
})


def normalised_stem(file_name: str) -> str:
    """Contract id shared by the txt, pdf and csv parts: accents and extension dropped, lower case,
    runs of other characters as one '-'. CUAD spells some names differently per part (a stray
    quote after '.PDF', composed vs decomposed accents), which this removes."""
    name = file_name.strip().strip('\'"')
    name = re.sub(r'\.(pdf|txt)$', '', name, flags=re.IGNORECASE)
    name = unicodedata.normalize('NFKD', name)
    name = ''.join(ch for ch in name if not unicodedata.combining(ch))
    return re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')


# CUAD's 25 agreement types (CUAD_v1_README.txt), as lowercase-hyphen ids, with the words in file
# names / titles that name them. 'services' is the weakest keyword: "TRANSPORTATION SERVICES" and
# "MARKETING AND SERVICING" are transportation and marketing contracts.
CONTRACT_TYPES: dict[str, str] = {
    'affiliate': r'affiliat',
    'agency': r'agency|agents?\b',
    'collaboration': r'collaborat|cooperat',
    'co-branding': r'co-?branding',
    'consulting': r'consult',
    'development': r'develop',
    'distributor': r'distribut',
    'endorsement': r'endorsement',
    'franchise': r'franchise',
    'hosting': r'hosting',
    'ip': r'intellectual property|\bip agreement',
    'joint-venture': r'joint venture|joint filing',
    'license': r'licen[cs]',
    'maintenance': r'maintenance',
    'manufacturing': r'manufactur',
    'marketing': r'marketing',
    'non-compete': r'non[- ]?compet|non[- ]?solicit|non[- ]?disparag',
    'outsourcing': r'outsourc',
    'promotion': r'promotion',
    'reseller': r'resell',
    'services': r'servic',
    'sponsorship': r'sponsorship',
    'strategic-alliance': r'strategic alliance',
    'supply': r'supply',
    'transportation': r'transportation',
}
_WEAK_TYPES = {'services', 'development', 'license', 'marketing'}


def _title_of_file(file_name: str) -> str:
    """The agreement-title part of a CUAD file name.
    New style: Company_YYYYMMDD_Form_Exhibit_Id_Exhibit_<Type Agreement>[_ <Type2>].pdf
    Old style: COMPANY_MM_DD_YYYY-EX-10.5-<TITLE>.PDF, or 'Company - TITLE.pdf'."""
    name = re.sub(r'\.(pdf|txt)\W*$', '', file_name.strip(), flags=re.IGNORECASE)
    if re.match(r'^[^_]+_\d{8}_', name):
        parts = name.split('_', 6)
        if len(parts) == 7:
            return parts[6].split('_')[0]
    match = re.search(r'-EX-?[^-]*-(.*)$', name)
    if match:
        return match.group(1)
    return name.split(' - ', 1)[1] if ' - ' in name else name


def _type_in(title: str) -> str | None:
    found = [(t, m.start()) for t, pattern in CONTRACT_TYPES.items()
             for m in [re.search(pattern, title, flags=re.IGNORECASE)] if m]
    if not found:
        return None
    strong = [f for f in found if f[0] not in _WEAK_TYPES] or found
    # The last strong keyword is the head noun ("LICENSE AND HOSTING AGREEMENT" -> hosting).
    return max(strong, key=lambda f: f[1])[0]


def contract_type_of(file_name: str, document_name: str = '') -> tuple[str, str]:
    """(type id, where it came from): the file name's title first, then CUAD's "Document Name"."""
    found = _type_in(_title_of_file(file_name))
    if found:
        return found, 'file-name'
    found = _type_in(document_name)
    if found:
        return found, 'document-name'
    return 'unknown', 'none'


@dataclass(frozen=True)
class NormalisedText:
    """`text` with whitespace runs collapsed to one space and quotes/dashes folded; `origin[i]` is the
    offset in the original string of normalised character i (len(text) + 1 entries)."""
    text: str
    origin: list[int]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Original offsets of normalised [start, end): from the first to the last matched char."""
        return self.origin[start], self.origin[end - 1] + 1


def normalise_with_offsets(original: str) -> NormalisedText:
    chars: list[str] = []
    origin: list[int] = []
    folded = original.translate(_CHAR_FOLD)
    previous_space = True  # drop leading whitespace
    for index, ch in enumerate(folded):
        if ch.isspace():
            if previous_space:
                continue
            chars.append(' ')
            previous_space = True
        else:
            chars.append(ch)
            previous_space = False
        origin.append(index)
    if chars and chars[-1] == ' ':
        chars.pop()
        origin.pop()
    origin.append(len(original))
    return NormalisedText(''.join(chars), origin)


def normalise_query(query: str) -> str:
    return re.sub(r'\s+', ' ', query.translate(_CHAR_FOLD)).strip()


def find_all(haystack: str, needle: str, *, ignore_case: bool, word_bounded: bool) -> list[int]:
    """Start offsets of every occurrence of `needle` in `haystack` (both already normalised)."""
    if not needle:
        return []
    pattern = re.escape(needle)
    if word_bounded:
        # Only where the needle begins/ends with a word character, so 'MA' does not match in 'MAY'
        # but '(Licensor and ...)' still matches after a space.
        if re.match(r'\w', needle):
            pattern = r'(?<!\w)' + pattern
        if re.search(r'\w$', needle):
            pattern = pattern + r'(?!\w)'
    flags = re.IGNORECASE if ignore_case else 0
    return [m.start() for m in re.finditer(pattern, haystack, flags)]
