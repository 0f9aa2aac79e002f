"""Thinc architectures of spacy-biobert's task heads (one module per head)."""
