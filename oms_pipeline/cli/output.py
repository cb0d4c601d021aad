"""How the CLI prints: a result as one JSON line, a bench's figures one a line and then as JSON, and
skipped input lines on stderr (each naming its line and field). Also where a command that reaches the store
gets its settings."""

from __future__ import annotations

import json
from typing import Any

import typer

from oms_pipeline.settings import OmsSettings, SandboxFallback

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


def deployment_settings(**overrides: Any) -> OmsSettings:
    """The settings of a command that reaches the store or its channels, refused (one line on stderr,
    exit 2) when the store is a real one and a setting would fall back to a sandbox value. Called
    before anything heavy is imported or any connection is opened."""
    settings = OmsSettings(**overrides)
    try:
        settings.require_no_sandbox_fallback()
    except SandboxFallback as refused:
        typer.echo(f"error: {refused}", err=True)
        raise typer.Exit(2) from None
    return settings
