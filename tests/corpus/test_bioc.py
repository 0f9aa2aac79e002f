"""BioC XML conversion: text assembly, mentions, discontinuous policy, relations, CLI, malformed input."""
import bioc
import pytest

from spacy_biobert.corpus import MENTIONS_KEY, CorpusFormatError, read_pubtator
from spacy_biobert.corpus.bioc import read_bioc
from spacy_biobert.corpus.pubtator import read_lines
from spacy_biobert.relations import get_concept_relations, get_relations
from tests.util import convert_with, invoke, read_docbin, relation_triples, write_text

TITLE = "Famotidine-associated delirium."
ABSTRACT = "Famotidine-induced acute renal failure and delirium in rats."
TITLE2, ABSTRACT2 = "Lithium toxicity.", "Lithium caused tremor."
OFFSET2 = 20  # leaves a 3-character gap after TITLE2, to be padded with spaces


def _ann(ident, start, length, text, label, kb=None, extra=""):
    infon = f'<infon key="MESH">{kb}</infon>' if kb is not None else ""
    return (
        f'<annotation id="{ident}">{infon}<infon key="type">{label}</infon>{extra}'
        f'<location offset="{start}" length="{length}"/><text>{text}</text></annotation>'
    )


def _passage(offset, text, annotations=""):
    body = f"<offset>{offset}</offset><text>{text}</text>{annotations}"
    return f'<passage><infon key="type">t</infon>{body}</passage>'


DOC1 = "<document><id>1</id>" + _passage(
    0,
    TITLE,
    _ann("0", 0, 10, "Famotidine", "Chemical", "D015738") + _ann("1", 22, 8, "delirium", "Disease", "D003693"),
) + _passage(
    32,
    ABSTRACT,
    _ann("2", 32, 10, "Famotidine", "Chemical", "D015738")
    + _ann("3", 51, 19, "acute renal failure", "Disease", "D058186|D007674",
           '<infon key="CompositeRole">CompositeMention</infon>')
    + '<annotation id="4"><infon key="type">Disease</infon><infon key="identifier">D007674</infon>'
    '<location offset="51" length="5"/><location offset="63" length="7"/><text>acute failure</text></annotation>'
    + _ann("5", 57, 5, "renal", "Disease", "-1"),
) + (
    '<relation id="R0"><infon key="Chemical">D015738</infon><infon key="Disease">D003693</infon>'
    '<infon key="relation">CID</infon></relation></document>'
)
DOC2 = "<document><id>2</id>" + _passage(0, TITLE2) + _passage(
    OFFSET2,
    ABSTRACT2,
    _ann("A1", OFFSET2, 7, "Lithium", "Chemical", "D008094")
    + _ann("A2", OFFSET2 + 15, 6, "tremor", "Disease", "D014202"),
) + (
    '<relation id="R1"><infon key="type">Induces</infon>'
    '<node refid="A1" role="Chemical"/><node refid="A2" role="Disease"/></relation></document>'
)


def _collection(*documents: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE collection SYSTEM "BioC.dtd">\n'
        "<collection><source>PubTator</source><date>2024</date><key>BioC.key</key>\n"
        + "\n".join(documents)
        + "\n</collection>\n"
    )


def _convert(tmp_path, xml: str, name: str = "cdr.xml"):
    return convert_with(read_bioc, write_text(tmp_path / name, xml))


def test_text_mentions_and_discontinuous_policy(tmp_path):
    docs, stats = _convert(tmp_path, _collection(DOC1, DOC2))
    assert [d._.biobert_doc_id for d in docs] == ["1", "2"]
    assert docs[0].text == TITLE + " " + ABSTRACT
    assert docs[1].text == TITLE2 + "   " + ABSTRACT2
    assert docs[0]._.biobert_sections == (("t", 0, len(TITLE)), ("t", 32, 32 + len(ABSTRACT)))
    ents = [(e.text, e.label_, e.kb_id_) for e in docs[0].ents]
    assert ents == [
        ("Famotidine", "Chemical", "D015738"),
        ("delirium", "Disease", "D003693"),
        ("Famotidine", "Chemical", "D015738"),
        ("acute renal failure", "Disease", "D058186|D007674"),
    ]
    group = docs[0].spans[MENTIONS_KEY]
    assert len(group) == 6
    assert (group[4].text, group[4].kb_id_) == ("acute renal failure", "D007674")  # covering span
    assert group.attrs["char_offsets"][4] == (51, 70)
    assert group.attrs["extra"][3] == ("CompositeRole=CompositeMention",)
    assert group.attrs["extra"][4] == ("discontinuous", "fragments=51-56,63-70")
    assert group[5].kb_id_ == "-1"
    assert stats.mentions == {"Chemical": 3, "Disease": 5}
    assert stats.not_in_ents == {"duplicate token span": 1, "overlaps a longer mention": 1}
    assert stats.misaligned == 0
    assert [(e.text, e.kb_id_) for e in docs[1].ents] == [("Lithium", "D008094"), ("tremor", "D014202")]


def test_concept_and_mention_relations(tmp_path):
    docs, stats = _convert(tmp_path, _collection(DOC1, DOC2))
    assert get_concept_relations(docs[0]) == {("D015738", "D003693", "CID"): 1.0}
    assert get_relations(docs[0]) == ()
    assert relation_triples(docs[1]) == [("Lithium", "tremor", "Induces")]
    assert docs[1]._.biobert_concept_relations == {}
    assert stats.concept_relations == {"CID": 1} and stats.mention_relations == {"Induces": 1}


def test_cli_writes_docbin_that_reloads_with_relations(tmp_path):
    invoke("convert", write_text(tmp_path / "toy.xml", _collection(DOC1, DOC2)), tmp_path / "out", "--format", "bioc")
    docs = read_docbin(tmp_path / "out" / "toy.spacy")
    assert len(docs) == 2
    assert docs[0]._.biobert_concept_relations == {("D015738", "D003693", "CID"): 1.0}
    assert relation_triples(docs[1]) == [("Lithium", "tremor", "Induces")]
    assert len(docs[0].spans[MENTIONS_KEY]) == 6
    assert [s.start for s in docs[1]._.biobert_sections] == [0, OFFSET2]  # the DocBin keeps the sections
    assert docs[0].spans[MENTIONS_KEY].attrs["extra"][4][0] == "discontinuous"


def _one(annotations: str = "", relations: str = "", text: str = "Aspirin harms.") -> str:
    return _collection(f"<document><id>9</id>{_passage(0, text, annotations)}{relations}</document>")


ASPIRIN = _ann("a", 0, 7, "Aspirin", "Chemical", "D1")
MALFORMED = [
    (_ann("a", 0, 7, "Asprin", "Chemical", "D1"), "bad.xml: document 9, annotation 'a': text 'Asprin' differs"),
    (_ann("a", 8, 70, "harms", "Chemical", "D1"), "bad.xml: document 9, annotation 'a': location 8-78 outside"),
    ('<annotation id="a"><location offset="0" length="7"/><text>Aspirin</text></annotation>', "no 'type' infon"),
    ('<annotation id="a"><infon key="type">X</infon><text>Aspirin</text></annotation>', "has no <location>"),
    ('<annotation id="a"><infon key="type">X</infon><location offset="0"/><text>A</text></annotation>',
     "bad.xml: malformed BioC"),
    ('<annotation id="a"><infon key="type">X</infon><location offset="0" length="7"/></annotation>', "no <text>"),
    (ASPIRIN + ASPIRIN, "bad.xml: document 9: missing or duplicate annotation id 'a'"),
]
MALFORMED_RELATIONS = [
    ('<relation id="r"><infon key="type">T</infon><node refid="a" role="x"/><node refid="zz" role="y"/>'
     "</relation>",
     "bad.xml: document 9: relation T names unknown annotation(s) ['zz']"),
    ('<relation id="r"><infon key="type">T</infon><node refid="a" role="x"/></relation>', "has 1 nodes"),
    ('<relation id="r"><infon key="Chemical">D1</infon><infon key="relation">CID</infon></relation>',
     "bad.xml: document 9, relation 'r' has neither two nodes nor two argument infons"),
    ('<relation id="r"><node refid="a" role="x"/><node refid="a" role="y"/></relation>',
     "no 'type' or 'relation'"),
]


@pytest.mark.parametrize("annotations, problem", MALFORMED)
def test_malformed_annotations_name_file(tmp_path, annotations, problem):
    with pytest.raises(CorpusFormatError) as info:
        _convert(tmp_path, _one(annotations), name="bad.xml")
    assert problem in str(info.value)


@pytest.mark.parametrize("relation, problem", MALFORMED_RELATIONS)
def test_malformed_relations_name_file(tmp_path, relation, problem):
    with pytest.raises(CorpusFormatError) as info:
        _convert(tmp_path, _one(ASPIRIN, relation), name="bad.xml")
    assert problem in str(info.value)


@pytest.mark.parametrize(
    "xml, problem",
    [
        ("<collection><document><id>1</id>\n<passage>\n</collection>", "bad.xml:3: malformed XML"),
        ("", "bad.xml:1: malformed XML"),
        (_collection(), "bad.xml: no <document>"),
        (_collection(f"<document>{_passage(0, 'x')}</document>"), "bad.xml: a <document> has no <id>"),
        (_collection(f"<document><id>3</id>{_passage(5, 'abcdefg')}{_passage(8, 'x')}</document>"), "overlaps"),
        (_collection("<document><id>3</id><passage><offset>x</offset></passage></document>"), "malformed BioC"),
    ],
)
def test_malformed_documents_name_file(tmp_path, xml, problem):
    with pytest.raises(CorpusFormatError) as info:
        _convert(tmp_path, xml, name="bad.xml")
    assert problem in str(info.value)


def test_wrong_encoding_names_line(tmp_path):
    path = tmp_path / "latin1.xml"
    path.write_bytes(_one(text="Caf\u00e9 harms.").replace("<date>", "\n<date>").encode("latin-1"))
    with pytest.raises(CorpusFormatError, match=r"latin1.xml:5: malformed XML: Invalid bytes in character enc"):
        list(read_bioc(path))


def to_bioc(sources, title_lengths) -> bioc.BioCCollection:
    """Write PubTator-read documents as a CDR-style BioC collection (title and abstract passages)."""
    collection = bioc.BioCCollection()
    for source, n_title in zip(sources, title_lengths):
        document = bioc.BioCDocument()
        document.id = source.doc_id
        for offset, text in ((0, source.text[:n_title]), (n_title + 1, source.text[n_title + 1:])):
            passage = bioc.BioCPassage()
            passage.offset, passage.text = offset, text
            document.add_passage(passage)
        for number, mention in enumerate(source.mentions):
            ann = bioc.BioCAnnotation()
            ann.id, ann.text = str(number), mention.text
            ann.infons.update({"MESH": mention.kb_id, "type": mention.label})
            ann.add_location(bioc.BioCLocation(mention.start, mention.end - mention.start))
            document.passages[1 if mention.start > n_title else 0].add_annotation(ann)
        for number, (head, tail, label) in enumerate(source.concept_relations):
            rel = bioc.BioCRelation()
            rel.id = f"R{number}"
            rel.infons.update({"Chemical": head, "Disease": tail, "relation": label})
            document.add_relation(rel)
        collection.add_document(document)
    return collection


def _roundtrip(tmp_path, pubtator_path):
    sources = list(read_pubtator(pubtator_path))
    lines = [text for _, text in read_lines(pubtator_path)]
    title_lengths = [len(line.split("|", 2)[2]) for line in lines if line.split("|", 2)[1:2] == ["t"]]
    assert len(title_lengths) == len(sources)
    with (tmp_path / "cdr.xml").open("w", encoding="utf8") as handle:
        bioc.dump(to_bioc(sources, title_lengths), handle)
    return sources, list(read_bioc(tmp_path / "cdr.xml"))


def _same(ours, theirs):
    assert [d.doc_id for d in theirs] == [d.doc_id for d in ours]
    for a, b in zip(ours, theirs):
        assert a.text == b.text
        assert [(m.start, m.end, m.text, m.label, m.kb_id) for m in a.mentions] == [
            (m.start, m.end, m.text, m.label, m.kb_id) for m in b.mentions
        ]
        assert a.concept_relations == b.concept_relations


def test_bioc_api_roundtrip_matches_pubtator(tmp_path):
    path = tmp_path / "toy.pubtator"
    path.write_text(
        f"1|t|{TITLE}\n1|a|{ABSTRACT}\n1\t0\t10\tFamotidine\tChemical\tD015738\n"
        "1\t51\t70\tacute renal failure\tDisease\tD058186|D007674\n1\tCID\tD015738\tD058186\n\n"
        f"2|t|{TITLE2}\n2|a|{ABSTRACT2}\n",
        encoding="utf8",
    )
    ours, theirs = _roundtrip(tmp_path, path)
    assert len(theirs) == 2 and len(theirs[0].mentions) == 2
    _same(ours, theirs)


def test_cdr_as_bioc_matches_pubtator(cdr_dir, tmp_path):
    ours, theirs = _roundtrip(tmp_path, cdr_dir / "test.pubtator.gz")
    assert len(theirs) == 500
    _same(ours, theirs)


# silent changes found by the mutation tests (tests/corpus/test_mutations_bioc_brat.py)
def test_repeated_document_relation_or_location_is_refused(tmp_path):
    twice = DOC1.replace('<location offset="51" length="5"/>', '<location offset="51" length="5"/>' * 2)
    for xml, problem in [
        (_collection(DOC1, DOC2, DOC1), "bad.xml: document 3 repeats the id '1'"),
        (_collection(DOC1.replace("</relation>", "</relation>" + DOC1[DOC1.index("<relation"):-11])),
         "bad.xml: document 1: duplicate relation id 'R0'"),
        (_collection(twice), "bad.xml: document 1, annotation '4': locations (51, 56) and (51, 56) overlap"),
    ]:
        with pytest.raises(CorpusFormatError) as info:
            _convert(tmp_path, xml, name="bad.xml")
        assert problem in str(info.value)


def test_order_of_infons_does_not_matter(tmp_path):
    swapped = DOC1.replace('<infon key="Chemical">D015738</infon><infon key="Disease">D003693</infon>',
                           '<infon key="Disease">D003693</infon><infon key="Chemical">D015738</infon>')
    assert swapped != DOC1
    (doc,) = read_bioc(write_text(tmp_path / "s.xml", _collection(swapped)))
    assert doc.concept_relations == [("D015738", "D003693", "CID")]
