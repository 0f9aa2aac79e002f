"""spaCy pipeline components of spacy-biobert (one module per component)."""
