"""HTML views of an output record (:func:`spacy_biobert.output.record.doc_to_record`), drawn with displaCy.

* :func:`render_entities` -- the text with its entities highlighted (displaCy ``ent`` style, manual mode), each
  labelled with its label, confidence and concepts (the KB's name, when the record has it, and the id); MeSH ids
  link to the MeSH browser.
* :func:`render_relations` -- the entities that take part in a relation as "words" and every relation as a
  labelled arc ``LABEL score`` (displaCy ``dep`` style, manual mode, an SVG). A concept relation is drawn
  between the closest pair of mentions of its two concepts.
* :func:`render_record` -- both, for one document.

Everything taken from the record (text, labels, ids, scores) is HTML-escaped: displaCy escapes the text and
the words itself, and the labels, tags and links are escaped here, so a text or a label holding ``<script>``
is shown, never run. The functions read only the record, so the server and a script render alike.
"""
import html
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple

from spacy import displacy
from spacy.displacy.render import DependencyRenderer

from .record import Record

#: Where a MeSH id (D…/C… unique identifier) links to; ``{id}`` is replaced.
MESH_URL = "https://meshb.nlm.nih.gov/record/ui?ui={id}"
MESH_ID = re.compile(r"^[CDGQ][0-9]{6,9}$")
COLORS = {"CHEMICAL": "#8ef", "DISEASE": "#fc9", "GENE": "#bf8", "SPECIES": "#fbe", "MUTATION": "#ddd"}
DEP_OPTIONS = {"compact": True, "distance": 150, "word_spacing": 30, "arrow_spacing": 14, "offset_x": 40}
NO_RELATIONS = '<p class="biobert-none">No relations.</p>'
LINK = '<a style="text-decoration: none; color: inherit; font-weight: normal" href="{url}">{id}</a>'


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _concept_links(entity: Dict[str, Any]) -> str:
    """The entity's concepts: name (when known) and id, MeSH ids as links; ``text:`` fallbacks are not shown
    (they are the text)."""
    parts = []
    for concept in entity.get("concepts") or ():
        cid = str(concept.get("id", ""))
        if cid.startswith("text:") or not cid:
            continue
        shown = LINK.format(url=_esc(MESH_URL.format(id=cid)), id=_esc(cid)) if MESH_ID.match(cid) else _esc(cid)
        name = concept.get("name")
        parts.append(f"{_esc(name)} ({shown})" if name else shown)
    return (" " + " | ".join(parts)) if parts else ""


def _non_overlapping(entities: Sequence[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """Entities sorted by offset, dropping any that overlaps one already kept (displaCy draws flat spans)."""
    kept: List[Dict[str, Any]] = []
    for ent in sorted(entities, key=lambda e: (e["start"], -(e["end"] - e["start"]))):
        if not kept or ent["start"] >= kept[-1]["end"]:
            kept.append(ent)
    return kept


def _label(entity: Dict[str, Any]) -> str:
    confidence = entity.get("confidence")
    shown = f" {confidence:.2f}" if isinstance(confidence, (int, float)) else ""
    return _esc(f"{entity.get('label', '')}{shown}")


def render_entities(record: Record) -> str:
    """The record's text with its entities highlighted, as an HTML fragment (no page, no script).

    Args:
        record: an output record.
    Returns:
        HTML: a ``<div class="entities">`` with one ``<mark>`` per entity (overlapping entities: the first and
        longest is drawn), its label and confidence, and its concept ids (MeSH ids linked to ``MESH_URL``).
    """
    spans = [
        {
            "start": ent["start"], "end": ent["end"], "label": _label(ent),
            # params override displaCy's single kb link with our escaped list of links
            "kb_id": "", "params": {"kb_link": _concept_links(ent)},
        }
        for ent in _non_overlapping(record.get("entities") or ())
    ]
    colors = {_label(e).upper(): COLORS.get(str(e.get("label", "")).upper(), "#ddd") for e in record.get("entities") or ()}
    parsed = {"text": record.get("text") or "", "ents": spans, "title": None}
    return displacy.render(parsed, style="ent", manual=True, options={"colors": colors}, page=False, jupyter=False)


def _arcs(record: Record) -> List[Tuple[str, str, str]]:
    """``(head entity id, tail entity id, arc label)`` of every relation: mention relations as they are,
    concept relations between the closest mentions of their concepts (skipped when no two distinct
    mentions carry them)."""
    entities = record.get("entities") or []
    by_id = {e["id"]: e for e in entities}
    arcs = [(r["head"], r["tail"], f"{r['label']} {r['score']:.2f}") for r in record.get("relations") or ()
            if r["head"] in by_id and r["tail"] in by_id and r["head"] != r["tail"]]
    mentions: Dict[str, List[Dict[str, Any]]] = {}
    for ent in entities:
        for concept in ent.get("concepts") or ():
            mentions.setdefault(concept["id"], []).append(ent)
    for rel in record.get("concept_relations") or ():
        pairs = [(abs(h["start"] - t["start"]), h["id"], t["id"])
                 for h in mentions.get(rel["head"], ()) for t in mentions.get(rel["tail"], ()) if h["id"] != t["id"]]
        if pairs:
            _, head, tail = min(pairs)
            arcs.append((head, tail, f"{rel['label']} {rel['score']:.2f}"))
    return arcs


def render_relations(record: Record) -> str:
    """The record's relations as labelled arcs between entities, as an SVG (displaCy ``dep`` style).

    Args:
        record: an output record.
    Returns:
        An ``<svg>`` whose words are the entities taking part in a relation (text, and label as the tag) in
        text order, and one arc per relation labelled ``LABEL score`` pointing from head to tail; or
        ``NO_RELATIONS`` (a short paragraph) when the record has none to draw.
    """
    arcs = _arcs(record)
    if not arcs:
        return NO_RELATIONS
    used = {eid for head, tail, _ in arcs for eid in (head, tail)}
    words = sorted((e for e in record["entities"] if e["id"] in used), key=lambda e: (e["start"], e["end"]))
    index = {e["id"]: i for i, e in enumerate(words)}
    seen = set()
    dep_arcs = []
    for head, tail, label in arcs:
        start, end = sorted((index[head], index[tail]))
        key = (start, end, label)
        if key in seen:  # displaCy keys arcs by (start, end, label): the same arc twice would collide
            continue
        seen.add(key)
        dep_arcs.append({"start": start, "end": end, "label": _esc(label),
                         "dir": "right" if index[head] < index[tail] else "left"})
    parsed = {"words": [{"text": e["text"], "tag": _esc(e.get("label", ""))} for e in words], "arcs": dep_arcs}
    renderer = DependencyRenderer(options=DEP_OPTIONS)
    return _crop_top(renderer.render([parsed], page=False, minify=False).strip(), renderer)


def _crop_top(svg: str, renderer: DependencyRenderer) -> str:
    """Cut the empty band displaCy leaves above compact arcs (its height is sized for round arcs, three
    times as tall) with a ``viewBox``, so the arcs sit right above the words."""
    top = renderer.offset_y - renderer.highest_level * renderer.distance / 6 - 10
    if top <= 0:
        return svg
    height = renderer.height - top
    old = f'height="{renderer.height}"'
    new = f'height="{height}" viewBox="0 {top} {renderer.width} {height}"'
    return svg.replace(old, new, 1).replace(f"height: {renderer.height}px", f"height: {height}px", 1)


def render_record(record: Record, title: Optional[str] = None) -> str:
    """Entities then relations of one record, in a ``<section class="biobert-doc">`` headed by its id (or ``title``)."""
    heading = title if title is not None else record.get("id")
    head = f"<h3>{_esc(heading)}</h3>" if heading not in (None, "") else ""
    return (
        f'<section class="biobert-doc">{head}'
        f'<div class="biobert-entities">{render_entities(record)}</div>'
        f'<div class="biobert-relations">{render_relations(record)}</div></section>'
    )
