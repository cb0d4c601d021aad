"""The order-note assets and their resource, as one Definitions object."""

from dagster import Definitions

from oms_pipeline.defs.notes.assets import note_tags_evaluation, order_note_tags
from oms_pipeline.defs.notes.resources import notes_resource
from oms_pipeline.settings import OmsSettings


def build_note_definitions(settings: OmsSettings | None = None) -> Definitions:
    """``order_note_tags`` and ``note_tags_evaluation``, with the ``notes`` resource from ``settings``."""
    settings = settings or OmsSettings()
    return Definitions(assets=[order_note_tags, note_tags_evaluation],
                       resources={"notes": notes_resource(settings)})
