"""Reports rendered from the warehouse marts (HTML, PDF, CSV) for people outside the pipeline."""
