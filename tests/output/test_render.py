"""HTML views of a record: entities (displaCy ent, manual) and relation arcs (displaCy dep, manual), all escaped."""
import re

from spacy_biobert.output.record import doc_to_record
from spacy_biobert.output.render import NO_RELATIONS, render_entities, render_record, render_relations
from tests.output.test_record import annotated_doc


def record(**changes):
    base = {
        "schema": "spacy-biobert/record", "version": 1, "id": "1",
        "text": "Lithium caused tremor and lithium toxicity.",
        "entities": [
            {"id": "T0", "label": "Chemical", "start": 0, "end": 7, "text": "Lithium", "confidence": 0.91,
             "concepts": [{"id": "D008094", "score": None}]},
            {"id": "T1", "label": "Disease", "start": 15, "end": 21, "text": "tremor", "confidence": 0.5,
             "concepts": [{"id": "text:tremor", "score": None}]},
            {"id": "T2", "label": "Chemical", "start": 26, "end": 33, "text": "lithium", "confidence": None,
             "concepts": [{"id": "D008094", "score": None}]},
        ],
        "relations": [], "concept_relations": [],
    }
    base.update(changes)
    return base


def test_entities_are_marked_with_label_confidence_and_mesh_links():
    html = render_entities(record())
    assert html.count("<mark") == 3
    assert "Chemical 0.91" in html and "Disease 0.50" in html
    assert 'href="https://meshb.nlm.nih.gov/record/ui?ui=D008094">D008094</a>' in html
    assert "text:tremor" not in html  # the text fallback is not an id worth showing
    assert "caused" in html and "toxicity." in html


def test_concept_names_are_shown_escaped_beside_their_ids():
    rec = record()
    rec["entities"][0]["concepts"] = [{"id": "D008094", "name": "Lithium <Li>", "score": None}]
    html = render_entities(rec)
    assert 'Lithium &lt;Li&gt; (<a style="text-decoration: none; color: inherit; font-weight: normal" ' \
           'href="https://meshb.nlm.nih.gov/record/ui?ui=D008094">D008094</a>)' in html


def test_composite_and_non_mesh_ids_are_shown():
    rec = record()
    rec["entities"][1]["concepts"] = [{"id": "D014202", "score": None}, {"id": "OMIM:123", "score": None}]
    html = render_entities(rec)
    assert "ui=D014202" in html and "OMIM:123" in html and "ui=OMIM" not in html


def test_overlapping_entities_draw_the_first_longest():
    rec = record()
    rec["entities"].append({"id": "T3", "label": "Disease", "start": 26, "end": 42, "text": "lithium toxicity",
                            "confidence": None, "concepts": []})
    html = render_entities(rec)
    assert html.count("<mark") == 3 and html.count("lithium") == 1  # no text drawn twice


def test_relations_are_arcs_with_label_and_score():
    rec = record(relations=[{"head": "T0", "tail": "T1", "label": "CID", "score": 0.75}])
    svg = render_relations(rec)
    assert svg.startswith("<svg") and svg.count('class="displacy-arc"') == 1 and "CID 0.75" in svg
    assert svg.count('class="displacy-word"') == 2  # only entities taking part in a relation


def test_concept_relations_join_the_closest_mentions():
    rec = record(concept_relations=[{"head": "D008094", "tail": "text:tremor", "label": "CID", "score": 0.6}])
    svg = render_relations(rec)
    assert "CID 0.60" in svg and svg.count('class="displacy-arc"') == 1
    words = re.findall(r'class="displacy-word"[^>]*>([^<]*)<', svg)
    assert words in (["Lithium", "tremor"], ["tremor", "lithium"])


def test_arc_direction_follows_head_and_tail():
    rec = record(relations=[{"head": "T1", "tail": "T0", "label": "R", "score": 0.3}])
    svg = render_relations(rec)
    # the arrowhead sits at the start word (x = 40 + ...) when the head comes after the tail
    head = re.search(r'class="displacy-arrowhead" d="M([0-9.]+),', svg)
    assert float(head.group(1)) < 100


def test_no_relations():
    assert render_relations(record()) == NO_RELATIONS
    unknown = record(concept_relations=[{"head": "D008094", "tail": "D000001", "label": "X", "score": 0.9}])
    assert render_relations(unknown) == NO_RELATIONS  # no mention carries the tail concept


def test_all_user_text_is_escaped():
    evil = "<script>alert(1)</script>"
    rec = {
        "id": evil, "text": evil + " x",
        "entities": [{"id": "T0", "label": evil, "start": 0, "end": 8, "text": "<script>", "confidence": 0.5,
                      "concepts": [{"id": '"><script>alert(2)</script>', "score": None}]},
                     {"id": "T1", "label": "L", "start": 26, "end": 27, "text": "x", "confidence": None, "concepts": []}],
        "relations": [{"head": "T0", "tail": "T1", "label": evil, "score": 0.5}],
        "concept_relations": [],
    }
    html = render_record(rec)
    assert "<script" not in html and "alert(1)" in html and "&lt;script&gt;" in html
    assert "&quot;&gt;&lt;script&gt;alert(2)" in html  # the id cannot break out of its element


def test_render_record_of_a_real_doc():
    html = render_record(doc_to_record(annotated_doc()))
    assert "<h3>123</h3>" in html and "Cisplatin" in html and "CID 0.75" in html and "AFFECTS 0.60" in html
    # two mention relations and two concept relations, one of which is the same arc as a mention relation
    assert html.count('class="displacy-arc"') == 3
