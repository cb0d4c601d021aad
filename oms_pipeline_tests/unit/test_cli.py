"""The `oms` command line, in process and without I/O: every command answers --help; `ingest` needs
--once."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from oms_pipeline.cli import app

COMMANDS = [[], ["demo"], ["ingest"], ["sandbox"], ["sandbox", "serve"], ["ui"], ["migrate"], ["bench"],
            ["bench", "ingest"], ["bench", "decide"], ["bench", "writeback"], ["holds"], ["holds", "release"],
            ["review"], ["review", "list"], ["review", "approve"], ["review", "reject"], ["fraud"],
            ["fraud", "train"], ["fraud", "score"], ["notes"], ["notes", "parse"], ["bench", "notes"],
            ["bench", "fraud"], ["fraud", "models"], ["fraud", "retrain"], ["fraud", "rollback"],
            ["fraud", "review"], ["reconcile"], ["bench", "reconcile"], ["doctor"], ["bench", "crash"]]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "oms")
def test_every_command_has_help(command):
    result = CliRunner().invoke(app, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_ingest_without_once_is_refused():
    result = CliRunner().invoke(app, ["ingest"])
    assert result.exit_code != 0 and "--once" in result.output
