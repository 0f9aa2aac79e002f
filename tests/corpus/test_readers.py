"""``spacy_biobert.GoldEntsCorpus.v1``: examples whose predicted docs carry the gold entities, no relations."""
import spacy
from spacy.tokens import Doc

from spacy_biobert.corpus.readers import create_gold_ents_corpus
from spacy_biobert.relations import get_concept_relations
from tests.util import REL_TOY, rel_reference, write_docbin


def test_gold_ents_reader(tmp_path):
    nlp = spacy.blank("en")
    refs = [rel_reference(nlp, *row) for row in REL_TOY]
    write_docbin(tmp_path / "toy.spacy", refs)
    egs = list(create_gold_ents_corpus(tmp_path / "toy.spacy")(nlp))
    assert len(egs) == 2
    for eg, ref in zip(egs, refs):
        assert [(e.text, e.label_, e.kb_id_) for e in eg.predicted.ents] == [(e.text, e.label_, e.kb_id_) for e in ref.ents]
        assert get_concept_relations(eg.predicted) == {} and get_concept_relations(eg.reference)
    assert isinstance(egs[0].predicted, Doc)


def test_gold_ents_reader_reads_every_spacy_file_of_a_folder(tmp_path):
    """``--paths.train corpus/train_dev`` (train.spacy + dev.spacy): spaCy's Corpus walks the folder, so does ours."""
    nlp = spacy.blank("en")
    folder = tmp_path / "train_dev"
    folder.mkdir()
    train, dev = ([rel_reference(nlp, *row)] for row in REL_TOY)
    write_docbin(folder / "train.spacy", train)
    write_docbin(folder / "dev.spacy", dev)
    egs = list(create_gold_ents_corpus(folder)(nlp))
    assert sorted(eg.reference.text for eg in egs) == sorted(doc.text for doc in train + dev)
    assert all(eg.predicted.ents and get_concept_relations(eg.reference) for eg in egs)
    assert len(list(create_gold_ents_corpus(folder, limit=1)(nlp))) == 1
