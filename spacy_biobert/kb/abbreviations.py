"""Abbreviations defined in a document (``long form (SHORT)``, Schwartz & Hearst 2003), via scispaCy's functions.

scispaCy's ``AbbreviationDetector`` component registers ``Doc._.abbreviations`` and ``Span._.long_form`` with
``force=True``, which would overwrite anybody else's attributes of those names; we call its detection
functions (``filter_matches``, ``find_abbreviation``) directly instead and register nothing.
"""
from typing import Dict

from scispacy.abbreviation import filter_matches, find_abbreviation
from spacy.matcher import Matcher
from spacy.tokens import Doc

PARENTHESES = [[{"ORTH": "("}, {"OP": "+"}, {"ORTH": ")"}]]


def abbreviation_map(doc: Doc) -> Dict[str, str]:
    """``{short form text: long form text}`` of the abbreviations defined in ``doc`` (first definition wins)."""
    matcher = Matcher(doc.vocab)
    matcher.add("parenthesis", PARENTHESES)
    inside = [(match_id, start + 1, end - 1) for match_id, start, end in matcher(doc)]
    found: Dict[str, str] = {}
    for long_candidate, short_candidate in filter_matches(inside, doc):
        short, long = find_abbreviation(long_candidate, short_candidate)
        if long is not None and len(long) and short.text not in found:
            found[short.text] = long.text
    return found
