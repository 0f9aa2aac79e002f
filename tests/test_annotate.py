import spacy
from spacy.tokens import Span, SpanGroup
from typer.testing import CliRunner

from spacy_biobert import Relation
from spacy_biobert.cli.annotate import report
from spacy_biobert.cli import app
from spacy_biobert.pipeline.ner import NER_SPANS_KEY


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


def test_annotate_command_on_a_saved_pipeline(tmp_path):
    spacy.blank("en").to_disk(tmp_path / "blank")
    result = CliRunner().invoke(app, ["annotate", str(tmp_path / "blank"), "--text", "Nothing here."])
    assert result.exit_code == 0, result.output
    assert "Nothing here." in result.output and "(none)" in result.output
