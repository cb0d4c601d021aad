"""``python -m oms_pipeline.cli``: the ``oms`` command (how the crash drill starts a run it can kill)."""

from oms_pipeline.cli import app

app()
