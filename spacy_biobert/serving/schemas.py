"""Request and response bodies of the REST API (Pydantic models; they make the OpenAPI schema at ``/docs``).

The response record mirrors :mod:`spacy_biobert.output.record` (schema ``spacy-biobert/record`` v2): the
server sends exactly what :func:`~spacy_biobert.output.record.doc_to_record` returns.
"""
from typing import Dict, List, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, field_validator

from ..errors import unicode_problem


class Document(BaseModel):
    """One input document."""

    model_config = ConfigDict(extra="forbid")

    id: Optional[Union[StrictStr, StrictInt]] = Field(
        None, description="Document id, unique within the request (numbers are turned into strings). "
        "Missing: the document's index in `documents` as a string (\"0\", \"1\", ...).",
    )
    text: StrictStr = Field(..., description="The text; empty or whitespace-only texts give an empty record.")

    @field_validator("id", "text")
    @classmethod
    def valid_unicode(cls, value: object) -> object:
        """Refuse a lone surrogate (a JSON escape such as "\\ud83d" without its pair): no pipeline can read it."""
        problem = unicode_problem(value) if isinstance(value, str) else None
        if problem:
            raise ValueError(problem)
        return value


class Options(BaseModel):
    """What to run for this request."""

    model_config = ConfigDict(extra="forbid")

    relations: StrictBool = Field(True, description="False: skip the relation component(s) for this request.")
    threshold: Optional[float] = Field(
        None, ge=0.0, le=1.0, allow_inf_nan=False,
        description="Keep relations scoring at least this (this request only); default: the model's threshold.",
    )


class AnnotateRequest(BaseModel):
    """``POST /v1/annotate`` and ``POST /v1/render``."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{
        "documents": [{"id": "1", "text": "Lithium-induced tremor and polyuria."}],
        "options": {"relations": True, "threshold": 0.5},
    }]})

    documents: List[Document] = Field(..., description="The documents, annotated in order.")
    options: Options = Field(default_factory=Options)


class Concept(BaseModel):
    id: str = Field(..., description='Concept id (e.g. a MeSH id), or "text:<lower-cased text>" without one.')
    name: Optional[str] = Field(None, description="The concept's name in the linker's knowledge base; null when unknown.")
    score: Optional[float] = None


class Section(BaseModel):
    type: str = Field(..., description='"title", "abstract", a BioC passage type...')
    start: int
    end: int


class Entity(BaseModel):
    id: str = Field(..., description='"T0", "T1", ... in text order.')
    label: str
    start: int = Field(..., description="Character offset (Python characters), inclusive.")
    end: int = Field(..., description="Character offset, exclusive.")
    text: str
    confidence: Optional[float] = Field(None, description="The NER head's probability; null when none.")
    concepts: List[Concept] = Field(..., description="The entity's ids, with the linker's score when it set them.")
    candidates: List[Concept] = Field(
        default_factory=list, description="The linker's top candidates, best first (also below its threshold)."
    )


class MentionRelation(BaseModel):
    head: str = Field(..., description="Entity id.")
    tail: str = Field(..., description="Entity id.")
    label: str
    score: float


class ConceptRelation(BaseModel):
    head: str = Field(..., description="Concept id.")
    tail: str = Field(..., description="Concept id.")
    label: str
    score: float
    head_name: Optional[str] = Field(None, description="The head concept's name in the knowledge base.")
    tail_name: Optional[str] = Field(None, description="The tail concept's name in the knowledge base.")


class RecordModel(BaseModel):
    """One document's output record (``spacy-biobert/record`` version 2)."""

    model_config = ConfigDict(populate_by_name=True)

    schema_: str = Field("spacy-biobert/record", alias="schema")
    version: int
    id: Optional[str]
    text: str
    sections: List[Section] = Field(default_factory=list, description="The text's sections; [] for plain text.")
    entities: List[Entity]
    relations: List[MentionRelation]
    concept_relations: List[ConceptRelation]


class AnnotateResponse(BaseModel):
    """One record per input document, in input order."""

    records: List[RecordModel]


class ModelInfo(BaseModel):
    """``GET /v1/model``."""

    pipeline: List[str]
    labels: Dict[str, List[str]] = Field(..., description="Labels of each component that has labels.")
    relation_thresholds: Dict[str, float]
    model: Dict[str, Optional[str]] = Field(..., description="Model meta: name, version, lang, spacy_version, path.")
    spacy_biobert_version: Optional[str]
    limits: Dict[str, int]


class Status(BaseModel):
    """``/healthz`` and ``/readyz``."""

    status: str
    detail: Optional[str] = None
