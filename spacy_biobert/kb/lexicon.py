"""The dictionary of ``spacy_biobert.KBMatchFeatures.v1`` (the NER head's dictionary-match feature): names from
the KB builders' sources, grouped as that layer reads them.

``spacy_biobert.kb_lexicon.v1`` returns a loader, called when the layer is initialized: MeSH-lite's names (one
group without source text: no label, always visible) and, per document of a ``.spacy`` training corpus, its gold
mentions with their labels (keyed by the document's text, for the layer's two-fold scheme). Never give it the
corpus that is scored: its mentions would all match there.
"""
from pathlib import Path
from typing import Callable, Iterable, Iterator, List, Optional, Tuple

from spacy.tokens import DocBin
from spacy.util import registry
from spacy.vocab import Vocab

from .sources import kb_from_mesh_lite

#: (source text or None, [(name, label or None)])
Group = Tuple[Optional[str], List[Tuple[str, Optional[str]]]]


def mesh_names() -> Group:
    """MeSH-lite's descriptor names, one unlabelled group."""
    return None, [(name, None) for concept in kb_from_mesh_lite() for name in concept.names]


def corpus_mentions(path: Path) -> Iterator[Group]:
    """The gold mentions (``doc.ents``) of each document of a ``.spacy`` corpus, with the document's text."""
    for doc in DocBin().from_disk(path).get_docs(Vocab()):
        yield doc.text, [(ent.text, ent.label_) for ent in doc.ents]


@registry.misc("spacy_biobert.kb_lexicon.v1")
def make_kb_lexicon(corpus: Optional[Path] = None, mesh: bool = True) -> Callable[[], Iterable[Group]]:
    """A loader of the dictionary: MeSH-lite's names if ``mesh``, the mentions of ``corpus`` if given."""

    def load() -> List[Group]:
        groups = [mesh_names()] if mesh else []
        if corpus is not None:
            groups.extend(corpus_mentions(Path(corpus)))
        return groups

    return load
