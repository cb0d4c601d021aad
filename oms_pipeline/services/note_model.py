"""The local note model on disk: trained by the notes step (or a command that parses notes), loaded by
everyone else, and cached by the corpus it learned from.

A model lives in ``<models_dir>/local-tfidf-<corpus hash>/``: a new corpus is a new version, and a file
trained on another corpus is never loaded for it. Each process loads a version once. A decision step
never trains: it only reads what the notes step stored.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from pathlib import Path

from oms_pipeline.domain.notes.local import LocalNoteEngine, corpus_hash

MODEL_FILE = "local_note_engine.joblib"

_LOADED: dict[Path, LocalNoteEngine] = {}
_LOCK = threading.Lock()


class NoteModelMissing(RuntimeError):
    """No trained local note model for the current corpus in the models directory."""


def note_models_dir(data_dir: Path) -> Path:
    """Where local note models are kept: ``<data_dir>/models/notes``."""
    return Path(data_dir).resolve() / "models" / "notes"


def local_model_version() -> str:
    """The version a model trained on the corpus in this checkout has."""
    return f"local-tfidf-{corpus_hash()}"


def local_note_model(models_dir: Path, *, train: bool) -> LocalNoteEngine:
    """The local note model of the current corpus: this process's copy, else the one on disk, else (with
    ``train``) trained now and saved for every later process. Without ``train`` a missing model raises
    :class:`NoteModelMissing`."""
    version = local_model_version()
    path = Path(models_dir) / version
    with _LOCK:
        if path in _LOADED:
            return _LOADED[path]
        if (path / MODEL_FILE).exists():
            engine = LocalNoteEngine.load(path)
        elif train:
            engine = LocalNoteEngine.train(version=version)
            _save(engine, path)
        else:
            raise NoteModelMissing(f"no local note model {version} in {models_dir}: the notes step "
                                   "(asset order_note_tags, or `oms notes parse`) trains and stores it")
        _LOADED[path] = engine
        return engine


def _save(engine: LocalNoteEngine, path: Path) -> None:
    """Write to a scratch folder beside ``path`` and rename it into place, so a process that dies
    mid-write leaves no half model, and two that train at once keep the first."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        engine.save(scratch)
        try:
            scratch.rename(path)
        except OSError:  # another process stored the same version first
            pass
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
