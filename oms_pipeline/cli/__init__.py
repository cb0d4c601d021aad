"""``oms``: the command line of oms-pipeline.

``app`` (``cli/app.py``) holds the command groups; the operator commands, file contracts and benches
register themselves on them when their modules are imported here.
"""

from oms_pipeline.cli import bench_commands, files, operators  # noqa: F401  (they register their commands)
from oms_pipeline.cli.app import app

__all__ = ["app"]
