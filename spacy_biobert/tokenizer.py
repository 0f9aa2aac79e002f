"""The biomedical tokenizer used both by the corpus converters and by the pipelines' configs."""
import warnings
from types import SimpleNamespace
from typing import Callable

from scispacy.custom_tokenizer import combined_rule_tokenizer
from spacy.lang import char_classes
from spacy.language import Language
from spacy.tokenizer import Tokenizer
from spacy.util import compile_infix_regex, compile_prefix_regex, compile_suffix_regex, registry

# scispaCy keeps "Famotidine-associated", "ergotamine/caffeine" and "(DOX)-induced" whole, but CDR
# annotates the chemical inside them. These extra rules split such joins; docs/training.md "Tokenization and
# alignment" gives the measured share of mentions that still need expanding.
_A = char_classes.ALPHA
EXTRA_INFIXES = [
    r"(?<=[{a}0-9)\]])(?:{h})(?=[{a}0-9(\[])".format(a=_A, h=char_classes.HYPHENS),
    r"(?<=[{a}0-9)\]+])/(?=[{a}0-9(\[])".format(a=_A),
    r"[)\]](?=[-/{a}0-9])".format(a=_A),
    r"(?<=[-/{a}0-9])[(\[](?=[{a}0-9+])".format(a=_A),
    r"(?<=[{a}])\+(?=[-/{a}0-9])".format(a=_A),
]
EXTRA_PREFIXES = [r"[(\[](?=[{a}0-9])".format(a=_A), r"-(?=[{a}])".format(a=_A)]
EXTRA_SUFFIXES = [r"(?<=[{a}0-9])-".format(a=_A), r"(?<=[{a}])\+".format(a=_A)]


@registry.tokenizers("spacy_biobert.Tokenizer.v1")
def create_biomedical_tokenizer(split_joins: bool = True) -> Callable[[Language], Tokenizer]:
    """scispaCy's rule-based biomedical tokenizer, optionally also splitting joined words.

    Args:
        split_joins: split hyphen, slash and bracket joins ("X-induced", "A/B", "(X)-y", "GABA(A)").
    Returns:
        A function that builds the tokenizer for a ``Language``.
    """

    def make_tokenizer(nlp: Language) -> Tokenizer:
        # scispaCy's builder reads ``nlp.tokenizer.token_match``, which does not exist while the
        # ``Language`` is being constructed: hand it a stand-in with spaCy's default tokenizer.
        default = registry.tokenizers.get("spacy.Tokenizer.v1")()(nlp)
        stand_in = SimpleNamespace(vocab=nlp.vocab, tokenizer=default, Defaults=nlp.Defaults)
        with warnings.catch_warnings():  # scispaCy's own regexes trigger re's "possible set union"
            warnings.simplefilter("ignore", FutureWarning)
            tokenizer = combined_rule_tokenizer(stand_in)
            if split_joins:
                _add_join_rules(tokenizer)
        return tokenizer

    return make_tokenizer


def _add_join_rules(tokenizer: Tokenizer) -> None:
    infixes = EXTRA_INFIXES + [tokenizer.infix_finditer.__self__.pattern]
    prefixes = EXTRA_PREFIXES + [tokenizer.prefix_search.__self__.pattern.lstrip("^")]
    suffixes = EXTRA_SUFFIXES + [tokenizer.suffix_search.__self__.pattern]
    tokenizer.infix_finditer = compile_infix_regex(infixes).finditer
    tokenizer.prefix_search = compile_prefix_regex(prefixes).search
    tokenizer.suffix_search = compile_suffix_regex(suffixes).search
