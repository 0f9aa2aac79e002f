"""``spacy biobert annotate MODEL [--text …]``: what a pipeline finds in a text, for a human to read.
(With INPUT and OUTPUT it annotates a corpus into records: :mod:`spacy_biobert.cli.batch`.)

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

from ..batch.ray_backend import RayOptions
from ..concepts import concept_ids
from ..pipeline.model_files import load_pipeline
from ..pipeline.ner import NER_SPANS_KEY
from ..output.record import ner_scores
from ..pipeline.rel import BioBertRel
from .batch import annotate_corpus_or_exit

SAMPLE_ABSTRACT = (
    "Cisplatin-induced nephrotoxicity and ototoxicity were observed in patients treated for ovarian cancer. "
    "Co-administration of amifostine reduced the renal damage, whereas high-dose lithium caused tremor "
    "and polyuria in two patients."
)


def entity_lines(doc: Doc, span_key: str = NER_SPANS_KEY) -> List[str]:
    """One line per entity: text, label, confidence (when the NER head stored one) and character offsets."""
    scores = ner_scores(doc, span_key)
    lines = []
    for ent in doc.ents:
        score = scores.get((ent.start, ent.end, ent.label_))
        shown = f"{score:.3f}" if score is not None else "  -  "
        lines.append(f"{ent.text:<30} {ent.label_:<12} {shown}  [{ent.start_char}:{ent.end_char}]")
    return lines


def relation_lines(doc: Doc) -> List[str]:
    """One line per stored relation, concept level then mention level, highest score first."""
    concept = sorted(doc._.biobert_concept_relations.items(), key=lambda kv: -kv[1])
    lines = [f"{head} --{label}--> {tail}   {score:.3f}" for (head, tail, label), score in concept]
    mention = sorted(doc._.biobert_relations, key=lambda rel: -rel.score)
    lines += [f"{r.head.text!r} --{r.label}--> {r.tail.text!r}   {r.score:.3f}" for r in mention]
    return lines


def candidate_lines(doc: Doc, rel: BioBertRel) -> List[str]:
    """Every candidate pair ``rel`` scores in ``doc`` (already annotated), highest first, below-threshold ones marked."""
    names: Dict[str, str] = {}
    for ent in doc.ents:
        for cid in concept_ids(ent):
            names.setdefault(cid, ent.text)
    def side(ids: Tuple[str, ...], mention: Optional[Span]) -> str:
        """A mention by its text; a concept by its ids and the text of its first mention."""
        return repr(mention.text) if mention is not None else f"{'|'.join(ids)} ({names.get(ids[0], '?')})"

    ((infos, probs),) = rel.predict([doc])
    threshold = float(rel.cfg["threshold"])
    rows = []
    for i, info in enumerate(infos):
        pair = (side(info.head_ids, info.head), side(info.tail_ids, info.tail))
        rows += [(float(probs[i, k]), f"{pair[0]} --{label}--> {pair[1]}") for k, label in enumerate(rel.labels)]
    rows.sort(key=lambda row: -row[0])
    return [f"{text}   {score:.3f}{'' if score >= threshold else '  (below threshold)'}" for score, text in rows]


def report(doc: Doc, nlp: Optional[Language] = None) -> str:
    """The full report for ``doc``; with ``nlp``, also the candidate pairs of each relation head."""
    ents = entity_lines(doc) or ["(none)"]
    rels = relation_lines(doc) or ["(none)"]
    lines = ["Entities (text, label, confidence, chars):", *ents, "", "Relations (score):", *rels]
    for name, pipe in (nlp.pipeline if nlp is not None else []):
        if isinstance(pipe, BioBertRel):
            header = f"Candidate relations scored by {name} (threshold {float(pipe.cfg['threshold']):.2f}):"
            lines += ["", header, *(candidate_lines(doc, pipe) or ["(none)"])]
    return "\n".join(lines)


def annotate_command(
    model: str = typer.Argument(..., help="Pipeline package name or folder."),
    input_path: Optional[Path] = typer.Argument(
        None, exists=True, help="Corpus to annotate: .txt file or folder of them, .jsonl, .pubtator or BioC .xml."
    ),
    output_path: Optional[Path] = typer.Argument(None, help="Output file: .jsonl, .pubtator or BioC .xml."),
    text: Optional[str] = typer.Option(None, "--text", "-t", help="Without INPUT: text to annotate (default: a sample)."),
    input_format: Optional[str] = typer.Option(
        None, "--input-format", help="text, jsonl, pubtator or bioc (--backend ray: also parquet)."),
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
) -> None:
    """Annotate a corpus into records (INPUT OUTPUT), or print what the pipeline finds in one text."""
    if input_path is not None:
        if output_path is None:
            msg.fail("INPUT given without OUTPUT", exits=1)
        annotate_corpus_or_exit(
            model, input_path, output_path, input_format=input_format, out_format=output_format,
            batch_size=batch_size, gpu_id=gpu_id, skip_bad=skip_bad, overwrite=overwrite, backend=backend,
            ray_options=RayOptions(address=ray_address, actors=actors, cpus_per_actor=cpus_per_actor,
                                   gpus_per_actor=num_gpus, torch_threads=torch_threads),
        )
        return
    nlp = load_pipeline(model)
    doc = nlp(text or SAMPLE_ABSTRACT)
    msg.divider(f"{model}")
    print(doc.text, end="\n\n")
    print(report(doc, nlp))
