"""amount_proposals.py: the regex that proposes AMOUNT spans for review."""

import pytest

from amount_proposals import propose


def found(text: str) -> list[str]:
    return [text[s:e] for s, e in propose(text)]


@pytest.mark.parametrize('text, expected', [
    ('a fee of Ten Thousand Dollars ($10,000) per month', ['Ten Thousand Dollars ($10,000)']),
    ('shall pay US$ 5 million within', ['US$ 5 million']),
    ('salary plus $100,000, reduced by', ['$100,000']),
    ('7.1.1 EUR five million (€ 5,000,000) within', ['EUR five million (€ 5,000,000)']),
    ('Bonus of Five Million and 00/100 Dollars ($5,000,000.00), and', ['Five Million and 00/100 Dollars ($5,000,000.00)']),
    ('deposit of RMB10,000 (RMB TEN THOUSAND), this', ['RMB10,000 (RMB TEN THOUSAND)']),
    ('liability is St(pound)500,000 (no charge)', ['St(pound)500,000']),
    ('pay (USD$1,250,000) now', ['USD$1,250,000']),
    ('an amount of seven million (7,000,000 USD) (the "Fee")', ['seven million (7,000,000 USD)']),
    ('Group Members 10 ARTICLE VI; arbitrators. 13.05 Relief', []),
    ('expressed in US Dollars. 4.2 Forecasting', []),
    ('an interest rate of 5% per annum on 30 days', []),
])
def test_proposals(text, expected):
    assert found(text) == expected
