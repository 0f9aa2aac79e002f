"""``python -m spacy_biobert …``: the same commands as ``python -m spacy biobert …``."""
from .cli import main

if __name__ == "__main__":
    main()
