"""How the CLI prints: a result as one JSON line, a bench's figures one a line and then as JSON, and
skipped input lines on stderr (each naming its line and field)."""

from __future__ import annotations

import json
from typing import Any

import typer

MAX_LISTED_ERRORS = 50


def emit(summary: dict[str, Any]) -> None:
    """One JSON line on stdout."""
    typer.echo(json.dumps(summary, default=str, sort_keys=False))


def report_file_errors(errors: list[dict[str, Any]]) -> None:
    """Skipped input lines, one a line on stderr, each naming its line number and field."""
    for error in errors[:MAX_LISTED_ERRORS]:
        typer.echo(f"line {error.get('line')}: {error.get('field')}: {error.get('error')}", err=True)
    if len(errors) > MAX_LISTED_ERRORS:
        typer.echo(f"... and {len(errors) - MAX_LISTED_ERRORS} more skipped lines", err=True)


def print_figures(figures: dict[str, Any]) -> None:
    """A bench's figures, one a line, then all of them as the last line in JSON."""
    for key, value in figures.items():
        typer.echo(f"{key:>24}: {value}")
    emit(figures)
