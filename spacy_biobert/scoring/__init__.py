"""Scorers of spacy-biobert's components (one module per task)."""
