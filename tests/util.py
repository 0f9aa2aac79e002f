"""Helpers shared by the test modules (fixtures live in tests/conftest.py).

Import as ``from tests.util import ...``: ``tests`` is a package (``tests/__init__.py``), and pytest puts the
checkout root on ``sys.path`` in its default ``prepend`` import mode.
"""
import importlib
import string
import sys
from pathlib import Path
from typing import Callable, Iterable, List, Sequence, Tuple

import spacy
from spacy.language import Language
from spacy.tokens import Doc, DocBin, Span
from spacy.training import Example
from spacy.util import fix_random_seed
from thinc.api import Adam
from typer.testing import CliRunner

import spacy_biobert  # noqa: F401
from spacy_biobert.cli import app
from spacy_biobert.cli.convert import conversion_nlp
from spacy_biobert.corpus import MENTIONS_KEY, ConversionStats, build_docs
from spacy_biobert.corpus.readers import with_gold_ents
from spacy_biobert.relations import Relation, set_concept_relations, set_relations

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = ROOT / "configs"
CDR_DIR = ROOT / "assets" / "cdr"

# --- a tiny random BERT ------------------------------------------------------------------------------------

def import_bench_script(monkeypatch, name: str, *fresh: str):
    """``bench/<name>.py`` imported as the scripts import one another (``bench/`` first on ``sys.path``); it and the
    ``fresh`` modules it imports are imported anew, not taken from an earlier test's import."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    for module in (name, *fresh):
        monkeypatch.delitem(sys.modules, module, raising=False)
    return importlib.import_module(name)


SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = ["the", "of", "and", "in", "induced", "patients", "rats", "with", "was", "were", "to", "a"]


def write_tiny_bert(folder: Path, seed: int = 0) -> Path:
    """Write a 2-layer, 32-wide random BERT (weights drawn from ``seed``) with a character-level WordPiece vocab to ``folder``."""
    import torch
    from transformers import BertConfig, BertModel, BertTokenizerFast

    chars = string.ascii_letters + string.digits + string.punctuation
    vocab = list(dict.fromkeys(SPECIAL + WORDS + list(chars) + ["##" + c for c in chars]))
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), do_lower_case=False)
    tokenizer.model_max_length = 512
    tokenizer.save_pretrained(str(folder))
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=37,
        max_position_embeddings=512,
    )
    with torch.random.fork_rng():  # the same weights in every run, without touching the caller's RNG
        torch.manual_seed(seed)
        BertModel(config).save_pretrained(str(folder))
    return folder


# --- pipelines ---------------------------------------------------------------------------------------------

LISTENER = {
    "@architectures": "spacy-transformers.TransformerListener.v1",
    "grad_factor": 1.0,
    "pooling": {"@layers": "reduce_mean.v1"},
}
TRANSFORMER = {
    "@architectures": "spacy_biobert.TransformerModel.v2",
    "get_spans": {"@span_getters": "spacy-transformers.strided_spans.v1", "window": 32, "stride": 24},
}
HASH_TOK2VEC = {  # a cheap tok2vec for tests of the heads that need no transformer
    "@architectures": "spacy.HashEmbedCNN.v2", "width": 8, "depth": 1, "embed_size": 50, "window_size": 1,
    "maxout_pieces": 2, "subword_features": True, "pretrained_vectors": None,
}


def biomedical_nlp(**tokenizer_options) -> Language:
    """A blank English pipeline with the biomedical tokenizer (``conversion_nlp()`` when given no options)."""
    if not tokenizer_options:
        return conversion_nlp()
    tokenizer = {"@tokenizers": "spacy_biobert.Tokenizer.v1", **tokenizer_options}
    return spacy.blank("en", config={"nlp": {"tokenizer": tokenizer}})


def transformer_nlp(name: str, nlp: Language = None) -> Language:
    """``nlp`` (default: a blank English pipeline) with a ``transformer`` on the encoder ``name``."""
    nlp = spacy.blank("en") if nlp is None else nlp
    nlp.add_pipe("transformer", config={"model": {**TRANSFORMER, "name": name}})
    return nlp


# --- a Doc with CDR-style entities (a composite id among them) --------------------------------------------

ENTITY_TEXT = "Famotidine caused delirium and acute renal failure in two patients ."


def entity_doc(nlp: Language) -> Doc:
    """``ENTITY_TEXT`` with ents Famotidine (D015738), delirium (D003693), acute renal failure (D058186|D007674)."""
    doc = nlp(ENTITY_TEXT)
    doc.ents = [
        Span(doc, 0, 1, "Chemical", kb_id="D015738"),
        Span(doc, 2, 3, "Disease", kb_id="D003693"),
        Span(doc, 4, 7, "Disease", kb_id="D058186|D007674"),
    ]
    return doc


# --- NER: a tiny training set and loop ---------------------------------------------------------------------

NER_TRAIN = [
    ("Famotidine induced delirium in rats .", [(0, 10, "Chemical"), (19, 27, "Disease")]),
    ("Patients with cocaine were treated for acute renal failure .", [(14, 21, "Chemical"), (39, 58, "Disease")]),
]


def ner_examples(nlp: Language, data=NER_TRAIN) -> List[Example]:
    return [Example.from_dict(nlp.make_doc(text), {"entities": ents}) for text, ents in data]


#: small lexical-feature embeddings for ``spacy_biobert.NERTagger.v2``'s ``features``
SHAPE_FEATURES = {
    "@architectures": "spacy.MultiHashEmbed.v2", "width": 8, "attrs": ["NORM", "PREFIX", "SUFFIX", "SHAPE"],
    "rows": [100, 50, 50, 20], "include_static_vectors": False,
}


def make_ner_nlp(tiny_bert: str, **model_options) -> Language:
    """transformer + biobert_ner on a listener, without lexical features unless ``features=SHAPE_FEATURES``."""
    nlp = transformer_nlp(tiny_bert)
    # the tests' own high learning rate (0.01) already suits the head: no extra head scaling here
    model = {"@architectures": "spacy_biobert.NERTagger.v2", "tok2vec": LISTENER, "features": None, **model_options}
    nlp.add_pipe("biobert_ner", config={"model": model, "head_lr_scale": 1.0})
    return nlp


def train_ner(nlp: Language, egs: List[Example], steps: int = 100, learn_rate: float = 0.01) -> dict:
    """The short NER training loop (seeded); return the last losses."""
    fix_random_seed(0)
    optimizer = nlp.initialize(lambda: egs)
    optimizer.learn_rate = learn_rate
    for _ in range(steps):
        losses = nlp.update(egs, sgd=optimizer)
    return losses


# --- relations: a tiny corpus and loop ---------------------------------------------------------------------

# (text, [(mention text, occurrence, label, kb id)], concept relations, mention relations by mention index)
REL_TOY = [
    (
        "Cisplatin was given to the patients . Weeks later they developed nephrotoxicity . "
        "Aspirin did not cause headache .",
        [("Cisplatin", 0, "Chemical", "C1"), ("nephrotoxicity", 0, "Disease", "D1"),
         ("Aspirin", 0, "Chemical", "C2"), ("headache", 0, "Disease", "D2")],
        [("C1", "D1", "CID")],
        [(0, 1)],
    ),
    (
        "Lithium treatment was stopped . Tremor appeared after haloperidol . "
        "No seizure was seen with valproate . Lithium levels were normal .",
        [("Lithium", 0, "Chemical", "C3"), ("Tremor", 0, "Disease", "D3"), ("haloperidol", 0, "Chemical", "C4"),
         ("seizure", 0, "Disease", "D4"), ("valproate", 0, "Chemical", "C5"), ("Lithium", 1, "Chemical", "C3")],
        [("C3", "D3", "CID"), ("C4", "D3", "CID")],
        [(2, 1)],
    ),
]


def set_gold(doc: Doc, spans: Sequence[Span], concept_rels: Iterable = ()) -> Doc:
    """Annotate ``doc`` as converted corpora are: ents, the mention span group and concept relations."""
    doc.ents = spans
    doc.spans[MENTIONS_KEY] = list(spans)
    set_concept_relations(doc, concept_rels)
    return doc


def rel_reference(nlp: Language, text, mentions, concept_rels, mention_rels) -> Doc:
    """The gold Doc of one ``REL_TOY`` row."""
    doc = nlp.make_doc(text)
    spans = []
    for mention, occurrence, label, kb_id in mentions:
        start = -1
        for _ in range(occurrence + 1):
            start = text.index(mention, start + 1)
        spans.append(doc.char_span(start, start + len(mention), label=label, kb_id=kb_id))
    set_gold(doc, spans, concept_rels)
    set_relations(doc, [Relation(spans[h], spans[t], "CID") for h, t in mention_rels])
    return doc


def rel_examples(nlp: Language) -> List[Example]:
    """``REL_TOY`` as training examples whose predicted docs carry the gold entities."""
    return [with_gold_ents(Example(nlp.make_doc(row[0]), rel_reference(nlp, *row))) for row in REL_TOY]


def make_rel_nlp(tiny_bert: str, local_evidence: bool = False, **rel_config) -> Language:
    """sentencizer + transformer + biobert_rel (``RelationModel.v2``, with or without local evidence) on a
    listener."""
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    transformer_nlp(tiny_bert, nlp)
    model = {"@architectures": "spacy_biobert.RelationModel.v2", "local_evidence": local_evidence, "tok2vec": LISTENER}
    nlp.add_pipe("biobert_rel", config={"model": model, **rel_config})
    return nlp


def train_rel(nlp: Language, egs: List[Example], steps: int = 40) -> Language:
    """The short relation training loop; return ``nlp``."""
    nlp.initialize(lambda: egs)
    optimizer = Adam(0.002)
    for _ in range(steps):
        nlp.update(egs, sgd=optimizer)
    return nlp


# --- files -------------------------------------------------------------------------------------------------

def write_docbin(path: Path, docs: Iterable[Doc]) -> Path:
    """Write ``docs`` (with their user data: relations, doc ids) to ``path``."""
    DocBin(docs=list(docs), store_user_data=True).to_disk(path)
    return path


def read_docbin(path: Path, nlp: Language = None) -> List[Doc]:
    """The docs of the DocBin at ``path``, in the vocab of ``nlp`` (default: the conversion pipeline)."""
    return list(DocBin().from_disk(path).get_docs((nlp or conversion_nlp()).vocab))


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf8")
    return path


def convert_with(reader: Callable, path: Path) -> Tuple[List[Doc], ConversionStats]:
    """Build the docs of the source file ``path`` read by ``reader``, as ``spacy biobert convert`` does."""
    stats = ConversionStats()
    return build_docs(conversion_nlp(), reader(path), stats), stats


# A tiny PubTator corpus: two chemical mentions, one disease mention and one CID relation.
TOY_PUBTATOR = """1|t|Famotidine-associated delirium.
1|a|Famotidine is used in patients.
1\t0\t10\tFamotidine\tChemical\tD015738
1\t22\t30\tdelirium\tDisease\tD003693
1\t32\t42\tFamotidine\tChemical\tD015738
1\tCID\tD015738\tD003693
"""


def invoke(*args, exit_code: int = 0):
    """Run ``spacy biobert ARGS`` in-process; check its exit code and return the click result."""
    result = CliRunner().invoke(app, [str(arg) for arg in args])
    assert result.exit_code == exit_code, result.output
    return result


def relation_triples(doc: Doc) -> List[Tuple[str, str, str]]:
    """``(head text, tail text, label)`` of each mention-level relation of ``doc``."""
    return [(r.head.text, r.tail.text, r.label) for r in doc._.biobert_relations]


# --- a small joint pipeline saved to disk (serving tests) ---------------------------------------------------

def make_joint_nlp(tiny_bert: str) -> Language:
    """sentencizer + transformer + biobert_ner + biobert_rel, both heads on listeners of one transformer."""
    nlp = make_rel_nlp(tiny_bert)
    model = {"@architectures": "spacy_biobert.NERTagger.v2", "tok2vec": LISTENER, "features": None}
    nlp.add_pipe("biobert_ner", before="biobert_rel", config={"model": model, "head_lr_scale": 1.0})
    return nlp


def linked_pipeline(joint_model: str, path: Path, names: Sequence[Tuple[str, str, str]] = ()) -> Language:
    """The saved ``joint_model`` with a ``biobert_linker`` before its relation head, on a KB of ``names`` ((id,
    name, label) each), saved to ``path``: a tiny end-to-end pipeline as `configs/e2e.cfg` lays one out."""
    from spacy_biobert.kb import KnowledgeBase

    nlp = spacy.load(joint_model)
    kb = KnowledgeBase()
    for cid, name, label in names:
        kb.add(cid, [name], label=label)
    nlp.add_pipe("biobert_linker", before="biobert_rel").set_kb(kb)
    nlp.to_disk(path)
    return nlp


def train_joint(nlp: Language, steps: int = 60, learn_rate: float = 0.01) -> Language:
    """Train both heads on ``REL_TOY`` (seeded; the relation head learns from the gold entities); return ``nlp``."""
    fix_random_seed(0)
    egs = rel_examples(nlp)
    optimizer = nlp.initialize(lambda: egs)
    optimizer.learn_rate = learn_rate
    for _ in range(steps):
        nlp.update(egs, sgd=optimizer)
    return nlp


def rss_mib() -> float:
    """This process's resident memory in MiB (Linux: ``/proc/self/status``)."""
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024
