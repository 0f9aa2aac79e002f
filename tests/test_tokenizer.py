import spacy

from tests.util import biomedical_nlp

TEXT = "Famotidine-associated (DOX)-induced ergotamine/caffeine GABA(A) Na+/K+ 4 mg/kg e.g. rats."


def test_splits_joins_that_cdr_annotates_inside():
    words = [t.text for t in biomedical_nlp()(TEXT)]
    for word in ["Famotidine", "associated", "DOX", "induced", "ergotamine", "caffeine", "GABA", "Na", "K"]:
        assert word in words
    assert "e.g." in words  # scispaCy's abbreviation handling is kept


def test_scispacy_only_mode_keeps_joins():
    nlp = biomedical_nlp(split_joins=False)
    assert "Famotidine-associated" in [t.text for t in nlp(TEXT)]


def test_tokenizer_survives_save_and_load(tmp_path):
    nlp = biomedical_nlp()
    nlp.to_disk(tmp_path / "nlp")
    loaded = spacy.load(tmp_path / "nlp")
    assert [t.text for t in loaded(TEXT)] == [t.text for t in nlp(TEXT)]
