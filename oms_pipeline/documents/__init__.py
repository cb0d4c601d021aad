"""Documents the pipeline produces as files (PDF): packing slips."""
