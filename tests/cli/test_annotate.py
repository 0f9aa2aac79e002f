"""``spacy biobert annotate``: the human-readable report of entities, relations and scored candidates."""
import re

import pytest
import spacy
from spacy.tokens import Span, SpanGroup

from spacy_biobert import Relation
from spacy_biobert.cli.annotate import report
from spacy_biobert.pipeline.ner import NER_SPANS_KEY
from tests.util import invoke, make_rel_nlp, rel_examples, train_rel

pytestmark = pytest.mark.usefixtures("one_torch_thread")
BELOW = "(below threshold)"


def test_report_lists_entities_scores_and_relations():
    doc = spacy.blank("en")("Lithium caused tremor .")
    chem, dis = Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease")
    doc.ents = [chem, dis]
    group = SpanGroup(doc, name=NER_SPANS_KEY, spans=[chem, dis])
    group.attrs["scores"] = (0.91, 0.42)
    doc.spans[NER_SPANS_KEY] = group
    doc._.biobert_relations = [Relation(chem, dis, "CID", 0.77)]
    doc._.biobert_concept_relations = {("text:lithium", "text:tremor", "CID"): 0.77}
    text = report(doc)
    assert "Lithium" in text and "Chemical" in text and "0.910" in text and "0.420" in text
    assert "text:lithium --CID--> text:tremor   0.770" in text
    assert "'Lithium' --CID--> 'tremor'   0.770" in text


def test_report_names_the_concepts_from_the_linker_kb():
    from spacy_biobert.kb import KnowledgeBase

    nlp = spacy.blank("en")
    kb = KnowledgeBase()
    kb.add("D008094", ["Lithium"], label="Chemical")
    kb.add("D014202", ["Tremor", "tremor"], label="Disease")
    nlp.add_pipe("biobert_linker").set_kb(kb)
    doc = nlp.make_doc("Lithium caused tremor and polyuria .")
    doc.ents = [Span(doc, 0, 1, "Chemical"), Span(doc, 2, 3, "Disease"), Span(doc, 4, 5, "Disease")]
    doc = nlp(doc)
    doc._.biobert_concept_relations = {("D008094", "D014202", "CID"): 0.9}
    lines = report(doc, nlp).splitlines()
    assert lines[1].split()[-2:] == ["D008094", "(Lithium)"] and lines[2].split()[-2:] == ["D014202", "(Tremor)"]
    assert lines[3].split()[-1] == "-"  # polyuria: no database id
    assert "D008094 (Lithium) --CID--> D014202 (Tremor)   0.900" in lines


def test_annotate_command_on_a_saved_pipeline(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "blank")
    result = invoke("annotate", tmp_path / "blank", "--text", "Nothing here.")
    assert "Nothing here." in result.output and "(none)" in result.output


@pytest.fixture(scope="module")
def rel_nlp(tiny_bert):
    """A relation pipeline trained briefly on the toy relation corpus."""
    nlp = make_rel_nlp(tiny_bert)
    return train_rel(nlp, rel_examples(nlp), steps=5)


def candidate_section(nlp, threshold: float, title_bonus: float = 0.0) -> list:
    """The report's candidate lines for a text with two chemicals and a disease, at ``threshold``."""
    doc = nlp.make_doc("Lithium caused tremor . Aspirin was given .")
    doc.ents = [Span(doc, 0, 1, "Chemical", kb_id="C3"), Span(doc, 2, 3, "Disease", kb_id="D3"),
                Span(doc, 4, 5, "Chemical", kb_id="C2")]
    with nlp.get_pipe("biobert_rel").temporarily(threshold=threshold, title_bonus=title_bonus):
        lines = report(nlp(doc), nlp).splitlines()
    bonus = f", title bonus {title_bonus:.2f}" if title_bonus else ""
    header = f"Candidate relations scored by biobert_rel (threshold {threshold:.2f}{bonus}):"
    assert header in lines
    return lines[lines.index(header) + 1:]


def test_report_marks_candidates_below_the_threshold(rel_nlp):
    candidates = candidate_section(rel_nlp, 1.0)
    assert len(candidates) == 2  # (Lithium, tremor) and (Aspirin, tremor), concept level
    for line in candidates:
        assert line.endswith("  " + BELOW)
        assert re.search(r"--CID--> .*   [01]\.\d{3}  \(below threshold\)$", line), line


def test_report_marks_nothing_at_threshold_zero(rel_nlp):
    candidates = candidate_section(rel_nlp, 0.0)
    assert len(candidates) == 2
    assert all(BELOW not in line and re.search(r"   [01]\.\d{3}$", line) for line in candidates)


def test_report_shows_the_title_bonus_on_title_pairs(rel_nlp):
    plain = {line.split("   ")[0]: float(line.split("   ")[1]) for line in candidate_section(rel_nlp, 0.0)}
    boosted = candidate_section(rel_nlp, 0.0, title_bonus=0.5)
    title = next(line for line in boosted if "C3 (Lithium) --CID--> D3 (tremor)" in line)  # both in the first sentence
    other = next(line for line in boosted if "C2 (Aspirin)" in line)
    raw = plain["C3 (Lithium) --CID--> D3 (tremor)"]
    assert f"   {min(1.0, raw + 0.5):.3f}  (title pair: {raw:.3f} + bonus)" in title
    assert "title pair" not in other and float(other.split("   ")[1]) == plain["C2 (Aspirin) --CID--> D3 (tremor)"]
