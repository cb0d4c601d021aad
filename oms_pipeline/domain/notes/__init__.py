"""Order-note parsing (issue 6): taxonomy, dates, corpus, local engine."""
