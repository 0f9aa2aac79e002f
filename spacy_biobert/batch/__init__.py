"""Batch annotation (application layer): input readers and the local backend of ``spacy biobert annotate``."""
