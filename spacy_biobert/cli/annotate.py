"""``spacy biobert annotate MODEL [--text …]``: what a pipeline finds in a text, for a human to read.
(With INPUT and OUTPUT it annotates a corpus into records: :mod:`spacy_biobert.batch.annotate`.)

Entities with their confidences; the relations the pipeline kept (score at least the relation head's
threshold); and every candidate pair the relation head scored, those below its threshold marked, so a
barely trained pipeline still shows what it is learning.
"""
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import typer
from spacy.language import Language
from spacy.tokens import Doc, Span
from wasabi import msg

from ..batch.annotate import annotate_corpus
from ..corpus.documents import FORMATS, BadInput
from ..batch.local import Summary
from ..batch.ray_backend import RayOptions
from ..concepts import TEXT_PREFIX, concept_ids
from ..corpus.builder import CorpusFormatError
from ..kb import KnowledgeBase
from ..output.record import Record, concept_name, doc_to_record, pipeline_kb
from ..pipeline.rel import BioBertRel
from ..pipeline.rel_title import add_title_bonus
from ._checks import check_pipeline, load_or_exit

SAMPLE_ABSTRACT = (
    "Cisplatin-induced nephrotoxicity and ototoxicity were observed in patients treated for ovarian cancer. "
    "Co-administration of amifostine reduced the renal damage, whereas high-dose lithium caused tremor "
    "and polyuria in two patients."
)


def named(cid: str, name: Optional[str]) -> str:
    """A concept id with its KB name in brackets, when it has one."""
    return f"{cid} ({name})" if name else cid


def entity_lines(record: Record) -> List[str]:
    """One line per entity: text, label, confidence (when the NER head stored one), character offsets and its
    concepts (ids and KB names; ``-`` without a database id)."""
    lines = []
    for ent in record["entities"]:
        shown = f"{ent['confidence']:.3f}" if ent["confidence"] is not None else "  -  "
        concepts = " | ".join(named(c["id"], c["name"]) for c in ent["concepts"] if not c["id"].startswith(TEXT_PREFIX))
        lines.append(f"{ent['text']:<30} {ent['label']:<12} {shown}  [{ent['start']}:{ent['end']}]  {concepts or '-'}")
    return lines


def relation_lines(record: Record) -> List[str]:
    """One line per stored relation, concept level then mention level, highest score first."""
    concept = sorted(record["concept_relations"], key=lambda rel: -rel["score"])
    lines = [f"{named(r['head'], r['head_name'])} --{r['label']}--> {named(r['tail'], r['tail_name'])}   {r['score']:.3f}"
             for r in concept]
    text = {ent["id"]: ent["text"] for ent in record["entities"]}
    mention = sorted(record["relations"], key=lambda rel: -rel["score"])
    lines += [f"{text[r['head']]!r} --{r['label']}--> {text[r['tail']]!r}   {r['score']:.3f}" for r in mention]
    return lines


def candidate_lines(doc: Doc, rel: BioBertRel, kb: Optional[KnowledgeBase] = None) -> List[str]:
    """Every candidate pair ``rel`` scores in ``doc`` (already annotated), highest first, with the score its
    threshold sees (a title pair's with the title bonus, marked), below-threshold ones marked; a concept is named by
    ``kb``, else by the text of its first mention."""
    names: Dict[str, str] = {}
    for ent in doc.ents:
        for cid in concept_ids(ent):
            names.setdefault(cid, concept_name(kb, cid) or ent.text)

    def side(ids: Tuple[str, ...], mention: Optional[Span]) -> str:
        """A mention by its text; a concept by its ids and its name."""
        return repr(mention.text) if mention is not None else f"{'|'.join(ids)} ({names.get(ids[0], '?')})"

    ((infos, probs),) = rel.predict([doc])
    scores = add_title_bonus(doc, infos, probs, float(rel.title_bonus), rel.level == "mention")
    threshold = float(rel.threshold)
    rows = []
    for i, info in enumerate(infos):
        pair = (side(info.head_ids, info.head), side(info.tail_ids, info.tail))
        rows += [(float(scores[i, k]), f"{pair[0]} --{label}--> {pair[1]}",
                  f"  (title pair: {float(probs[i, k]):.3f} + bonus)" if scores[i, k] != probs[i, k] else "")
                 for k, label in enumerate(rel.labels)]
    rows.sort(key=lambda row: -row[0])
    return [f"{text}   {score:.3f}{note}{'' if score >= threshold else '  (below threshold)'}"
            for score, text, note in rows]


def report(doc: Doc, nlp: Optional[Language] = None) -> str:
    """The full report for ``doc``; with ``nlp``, concepts named by its KB and the candidate pairs of each
    relation head."""
    kb = pipeline_kb(nlp) if nlp is not None else None
    record = doc_to_record(doc, kb=kb)
    ents = entity_lines(record) or ["(none)"]
    rels = relation_lines(record) or ["(none)"]
    lines = ["Entities (text, label, confidence, chars, concepts):", *ents, "", "Relations (score):", *rels]
    for name, pipe in (nlp.pipeline if nlp is not None else []):
        if isinstance(pipe, BioBertRel):
            bonus = f", title bonus {float(pipe.title_bonus):.2f}" if pipe.title_bonus else ""
            header = f"Candidate relations scored by {name} (threshold {float(pipe.threshold):.2f}{bonus}):"
            lines += ["", header, *(candidate_lines(doc, pipe, kb) or ["(none)"])]
    return "\n".join(lines)


def print_summary(summary: Summary, output: Path) -> None:
    """Counts of the run, every skipped record and what the output format could not hold."""
    msg.good(f"{summary.written} records written to {output} ({summary.resumed} already there, "
             f"{len(summary.skipped)} skipped, {summary.read} read)")
    for skip in summary.skipped:
        msg.warn(f"skipped {skip.where}: {skip.problem}")
    for what, n in sorted(summary.lossy.items()):
        msg.warn(f"{output.suffix or 'output'} cannot hold: {what}: {n}")


def annotate_corpus_or_exit(model: str, input_path: Path, output_path: Path, **options) -> None:
    """:func:`annotate_corpus`, turning bad input into a one-line error and exit code 1."""
    try:
        summary = annotate_corpus(model, input_path, output_path, **options)
    except (BadInput, CorpusFormatError, ValueError, OSError, ImportError) as err:
        msg.fail(str(err), exits=1)
    print_summary(summary, output_path)
    if not summary.accounted():
        msg.fail(f"{summary.read} records read but {summary.written + summary.resumed + len(summary.skipped)} "
                 "accounted for", exits=1)


def annotate_command(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    input_path: Optional[Path] = typer.Argument(
        None, exists=True,
        help="Corpus to annotate: .txt file or folder of them, .jsonl, .pubtator or BioC .xml (.gz too).",
    ),
    output_path: Optional[Path] = typer.Argument(None, help="Output file: .jsonl, .pubtator or BioC .xml."),
    text: Optional[str] = typer.Option(None, "--text", "-t", help="Without INPUT: text to annotate (default: a sample)."),
    input_format: Optional[str] = typer.Option(
        None, "--input-format", help=f"{', '.join(FORMATS)} (--backend ray: also parquet)."),
    output_format: Optional[str] = typer.Option(
        None, "--output-format", help="jsonl, pubtator or bioc (--backend ray: also jsonl-shards, parquet)."),
    batch_size: int = typer.Option(32, "--batch-size", "-b", help="Documents per nlp.pipe batch (at least 1)."),
    gpu_id: int = typer.Option(-1, "--gpu-id", "-g", help="GPU id (-1: CPU)."),
    skip_bad: bool = typer.Option(False, "--skip-bad", help="Pass over bad input records and list them at the end "
                                  "(a long document is not bad: one over 20,000 characters is annotated in pieces)."),
    overwrite: bool = typer.Option(False, "--overwrite", help="Start OUTPUT over instead of resuming it."),
    backend: str = typer.Option("local", "--backend", help="local (this process) or ray (a Ray cluster)."),
    ray_address: Optional[str] = typer.Option(
        None, "--ray-address", help="Ray: default a local cluster; 'auto' (ray start --head here) or ray://HOST:10001."),
    actors: int = typer.Option(2, "--actors", help="Ray: pipeline copies (actor pool size)."),
    num_gpus: float = typer.Option(0.0, "--num-gpus", help="Ray: GPUs per actor (default 1 with --gpu-id, else 0)."),
    cpus_per_actor: float = typer.Option(1.0, "--cpus-per-actor", help="Ray: CPUs reserved per actor."),
    torch_threads: int = typer.Option(1, "--torch-threads", help="Ray: torch threads per actor."),
    threshold: Optional[float] = typer.Option(
        None, "--threshold", "--relations-threshold", min=0.0, max=1.0,
        help="Keep relations scoring at least this (every relation component; default: the pipeline's threshold). "
             "In Python: spacy.load(MODEL, config={'components': {'biobert_rel': {'threshold': 0.2}}}), or "
             "nlp.get_pipe('biobert_rel').threshold = 0.2."),
) -> None:
    """Annotate a corpus into records (INPUT OUTPUT), or print what the pipeline finds in one text."""
    check_pipeline(model)
    if input_path is not None:
        if output_path is None:
            msg.fail("INPUT given without OUTPUT", exits=1)
        annotate_corpus_or_exit(
            model, input_path, output_path, input_format=input_format, out_format=output_format,
            batch_size=batch_size, gpu_id=gpu_id, skip_bad=skip_bad, overwrite=overwrite, backend=backend,
            ray_options=RayOptions(address=ray_address, actors=actors, cpus_per_actor=cpus_per_actor,
                                   gpus_per_actor=num_gpus, torch_threads=torch_threads),
            relation_threshold=threshold,
        )
        return
    nlp = load_or_exit(model, threshold)
    doc = nlp(text or SAMPLE_ABSTRACT)
    msg.divider(f"{model}")
    print(doc.text, end="\n\n")
    print(report(doc, nlp))
