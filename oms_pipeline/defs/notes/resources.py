"""The note engine as a Dagster resource, built from the settings (``OMS_NOTES_ENGINE`` and friends)."""

from __future__ import annotations

from pathlib import Path

from dagster import ConfigurableResource

from oms_pipeline.services.note_model import note_models_dir
from oms_pipeline.services.notes import NoteEngine, make_note_engine
from oms_pipeline.settings import OmsSettings, setting_default


class NotesResource(ConfigurableResource):
    """Which engine parses order notes, and how the Anthropic one is called.

    No API key here: the Anthropic SDK reads ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL`` itself,
    so the key never lands in Dagster's run config.
    """

    engine: str = setting_default("notes_engine")  # local | anthropic | auto
    anthropic_model: str = setting_default("anthropic_model")
    anthropic_timeout_s: float = setting_default("anthropic_timeout_s")
    anthropic_max_retries: int = setting_default("anthropic_max_retries")
    cache_dir: str | None = None
    models_dir: str  # where the local note model of each corpus is stored

    def note_engine(self) -> NoteEngine:
        """A ready engine: the stored local model (trained and stored first if missing), or an Anthropic
        client with its answer cache and the local model as fallback."""
        return make_note_engine(self.engine, models_dir=Path(self.models_dir), model=self.anthropic_model,
                                timeout_s=self.anthropic_timeout_s,
                                max_retries=self.anthropic_max_retries,
                                cache_dir=Path(self.cache_dir) if self.cache_dir else None)


def notes_resource(settings: OmsSettings) -> NotesResource:
    """The notes resource from ``OMS_*`` settings (cache default: ``<data_dir>/notes_cache``)."""
    cache = settings.notes_cache_dir or settings.data_dir / "notes_cache"
    return NotesResource(engine=settings.notes_engine, anthropic_model=settings.anthropic_model,
                         anthropic_timeout_s=settings.anthropic_timeout_s,
                         anthropic_max_retries=settings.anthropic_max_retries, cache_dir=str(Path(cache).resolve()),
                         models_dir=str(note_models_dir(settings.data_dir)))
