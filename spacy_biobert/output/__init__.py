"""Output of annotated documents: the record every way out shares, and writers to JSONL, BioC XML and PubTator."""
