"""String normalisation shared by KB lookup and the linker: both sides of a match use the same :class:`Normalizer`.

Steps, each switchable (the benchmark measures each one, ``bench/bench_linker.py``):

* always: lower-case and collapse whitespace (the baseline "exact lower-cased match");
* ``unicode``: Unicode NFKC (full-width letters, ligatures, super/subscripts, non-breaking spaces), Greek letters
  spelled out (``α`` -> ``alpha``);
* ``punctuation``: every run of characters that are neither letters nor digits becomes one space, so
  ``5-fluorouracil``, ``5 fluorouracil`` and ``5-Fluoro-uracil``... differ only where letters differ;
* ``plurals``: a simple English plural stripping per word (``-ies`` -> ``-y``, ``-s`` but not ``-ss``/``-us``/
  ``-is``, words longer than 3 characters).
"""
import re
import unicodedata
from dataclasses import dataclass

GREEK = {
    "α": "alpha", "β": "beta", "γ": "gamma", "δ": "delta", "ε": "epsilon", "ζ": "zeta", "η": "eta", "θ": "theta",
    "ι": "iota", "κ": "kappa", "λ": "lambda", "μ": "mu", "ν": "nu", "ξ": "xi", "ο": "omicron", "π": "pi", "ρ": "rho",
    "σ": "sigma", "ς": "sigma", "τ": "tau", "υ": "upsilon", "φ": "phi", "χ": "chi", "ψ": "psi", "ω": "omega",
}
_GREEK_TABLE = str.maketrans({k: f" {v} " for k, v in GREEK.items()})
_NON_ALNUM = re.compile(r"[\W_]+", re.UNICODE)


def strip_plural(word: str) -> str:
    """A simple English singular: ``therapies`` -> ``therapy``, ``seizures`` -> ``seizure``; short words kept."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


@dataclass(frozen=True)
class Normalizer:
    """Turns a name or mention text into its lookup key."""

    unicode: bool = True
    punctuation: bool = True
    plurals: bool = False

    def __call__(self, text: str) -> str:
        """The normalised form of ``text`` (possibly ``""``)."""
        if self.unicode:
            text = unicodedata.normalize("NFKC", text).lower().translate(_GREEK_TABLE)
        else:
            text = text.lower()
        if self.punctuation:
            text = _NON_ALNUM.sub(" ", text)
        words = text.split()
        if self.plurals:
            words = [strip_plural(w) for w in words]
        return " ".join(words)


#: The benchmark's baseline: lower-case and whitespace only.
BASELINE = Normalizer(unicode=False, punctuation=False, plurals=False)
