"""Component settings take effect however they are given: a config override at ``spacy.load`` (for every setting
kept in a ``cfg``), the component's attribute, ``set_setting`` (saved with the pipeline)."""
import warnings

import pytest
import spacy
from spacy.tokens import Span

from spacy_biobert.kb import KnowledgeBase
from spacy_biobert.pipeline.linker import BioBertLinker
from spacy_biobert.pipeline.ner import BioBertNER
from spacy_biobert.pipeline.rel import BioBertRel
from spacy_biobert.pipeline.settings import set_setting

pytestmark = pytest.mark.usefixtures("one_torch_thread")

#: A value other than the default for every setting of every component (component name, setting, value).
OVERRIDES = {
    "biobert_ner": {"span_key": "my_spans", "outside_weight": 0.5},
    "biobert_rel": {"threshold": 0.0, "title_bonus": 0.3, "level": "mention", "aggregate": "max",
                    "loss_reduction": "pair"},
    "biobert_linker": {"threshold": 0.3, "top_k": 2, "abbreviations": False, "fuzzy": False, "consistent": False,
                       "ngram_range": [2, 4], "unicode": False, "punctuation": False, "plurals": False,
                       "dense_trigger": 0.5},
}
CLASSES = {"biobert_ner": BioBertNER, "biobert_rel": BioBertRel, "biobert_linker": BioBertLinker}
TEXT = "Lithium caused tremor . Aspirin was given ."


def small_kb() -> KnowledgeBase:
    kb = KnowledgeBase()
    kb.add("C3", ["Lithium"], label="Chemical")
    kb.add("D3", ["tremor", "Tremor"], label="Disease")
    kb.add("C2", ["Aspirin"], label="Chemical")
    return kb


@pytest.fixture(scope="module")
def full_model(joint_model, tmp_path_factory):
    """The joint NER + relation pipeline with a linker after the NER, saved."""
    nlp = spacy.load(joint_model)
    nlp.add_pipe("biobert_linker", after="biobert_ner").set_kb(small_kb())
    path = tmp_path_factory.mktemp("full") / "model"
    nlp.to_disk(path)
    return path


def test_every_setting_is_covered():
    assert {name: set(cls.setting_names()) for name, cls in CLASSES.items()} == {
        name: set(values) for name, values in OVERRIDES.items()}


def test_a_config_override_of_every_saved_setting_takes_effect(full_model):
    default = spacy.load(full_model)
    loaded = spacy.load(full_model, config={"components": OVERRIDES})
    for component, values in OVERRIDES.items():
        for key, value in values.items():
            assert getattr(default.get_pipe(component), key) != value, (component, key)
            assert getattr(loaded.get_pipe(component), key) == value, (component, key)
            assert loaded.get_pipe(component).cfg[key] == value and loaded.get_pipe_config(component)[key] == value
    assert loaded.get_pipe("biobert_rel").labels == default.get_pipe("biobert_rel").labels  # learned: from disk


def gold_relations(nlp):
    """Concept relations of TEXT with gold entities."""
    doc = nlp.make_doc(TEXT)
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C3"), Span(doc, 2, 3, "Disease", kb_id="D3"),
                Span(doc, 4, 5, "Chemical", kb_id="C2")]
    return nlp(doc)._.biobert_concept_relations


def relations_at(path, threshold):
    """Concept relations of TEXT with gold entities, the relation threshold given as a config override."""
    return gold_relations(spacy.load(path, disable=["biobert_ner", "biobert_linker"],
                                     config={"components": {"biobert_rel": {"threshold": threshold}}}))


def test_the_relation_threshold_override_changes_what_comes_out(full_model):
    assert len(relations_at(full_model, 0.0)) == 2  # (Lithium, tremor), (Aspirin, tremor)
    assert relations_at(full_model, 1.0) == {}


def test_linker_settings_change_what_it_links(full_model):
    def linked(**settings):
        nlp = spacy.load(full_model, disable=["biobert_ner", "biobert_rel"],
                         config={"components": {"biobert_linker": settings}})
        doc = nlp.make_doc("Lithium caused tremors .")
        doc.ents = [Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease")]
        doc = nlp(doc)
        return [e.kb_id_ for e in doc.ents], [len(c) for c in doc._.biobert_link_candidates.values()]

    assert linked() == (["C3", "D3"], [1, 1])  # "tremors": plural stripped
    assert linked(plurals=False, fuzzy=False)[0] == ["C3", ""]
    assert linked(threshold=1.0, fuzzy=True, plurals=False)[0] == ["C3", ""]


def test_attributes_are_checked_and_rebuild_what_depends_on_them(full_model):
    nlp = spacy.load(full_model)
    rel, linker = nlp.get_pipe("biobert_rel"), nlp.get_pipe("biobert_linker")
    rel.threshold = 0.25
    assert rel.cfg["threshold"] == 0.25
    for pipe, key, bad in [(rel, "threshold", 2), (rel, "level", "sentence"), (nlp.get_pipe("biobert_ner"),
                           "outside_weight", 0), (linker, "top_k", 0), (linker, "fuzzy", "yes")]:
        with pytest.raises(ValueError, match=f"{pipe.name}: bad {key} {bad!r}"):
            setattr(pipe, key, bad)
    matcher = linker.matcher
    linker.top_k = 1
    assert linker.matcher is not matcher and linker.matcher.top_k == 1


def test_set_setting_is_saved_and_an_attribute_only_change_warns(full_model, tmp_path):
    nlp = spacy.load(full_model)
    set_setting(nlp, "biobert_rel", "threshold", 0.125)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nlp.to_disk(tmp_path / "saved")
    assert spacy.load(tmp_path / "saved").get_pipe("biobert_rel").threshold == 0.125
    nlp.get_pipe("biobert_ner").outside_weight = 0.75
    with pytest.warns(UserWarning, match=r"biobert_ner: outside_weight = 0.75 was set on the component only.*set_setting"):
        nlp.to_disk(tmp_path / "again")
    with pytest.raises(ValueError, match="'biobert_rel' has no setting 'labels'; its settings: threshold, title_bonus, level"):
        set_setting(nlp, "biobert_rel", "labels", ["X"])
    with pytest.raises(ValueError, match="no component 'rel'"):
        set_setting(nlp, "rel", "threshold", 0.5)


def test_temporarily_holds_inside_the_block_and_restores_after_it(full_model):
    nlp = spacy.load(full_model, disable=["biobert_ner", "biobert_linker"])
    rel = nlp.get_pipe("biobert_rel")
    with rel.temporarily(threshold=0.0, level="concept"):
        assert rel.threshold == rel.cfg["threshold"] == 0.0
        inside = gold_relations(nlp)
    assert inside == relations_at(full_model, 0.0) and len(inside) == 2  # the value was used
    assert rel.threshold == 0.5 and nlp.get_pipe_config("biobert_rel")["threshold"] == 0.5
    assert gold_relations(nlp) == relations_at(full_model, 0.5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing to warn about when saving: the settings are the config's again
        nlp.to_disk(full_model.parent / "after_temporarily")


def test_temporarily_restores_after_an_exception_and_refuses_bad_values(full_model):
    nlp = spacy.load(full_model)
    rel, linker = nlp.get_pipe("biobert_rel"), nlp.get_pipe("biobert_linker")
    with pytest.raises(RuntimeError, match="inside"):
        with rel.temporarily(threshold=0.0, level="mention"):
            assert (rel.threshold, rel.level) == (0.0, "mention")
            raise RuntimeError("inside")
    assert (rel.threshold, rel.level) == (0.5, "concept")
    with pytest.raises(ValueError, match="biobert_rel: bad level 'sentence'"):
        with rel.temporarily(threshold=0.0, level="sentence"):
            pass  # never reached
    assert (rel.threshold, rel.level) == (0.5, "concept")  # the threshold set before the bad level is back too
    with pytest.raises(ValueError, match="biobert_rel: no setting 'labels'; its settings: threshold, title_bonus, level"):
        with rel.temporarily(labels=["X"]):
            pass
    with linker.temporarily(top_k=1):  # what depends on a setting follows it both ways
        assert linker.matcher.top_k == 1
    assert linker.matcher.top_k == linker.top_k == 5
