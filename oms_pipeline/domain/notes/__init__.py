"""Order-note parsing: taxonomy, dates, corpus, local engine."""
