"""Order-note assets: parse the notes of the orders decisions will look at; evaluate the local engine."""

# No `from __future__ import annotations`: Dagster reads the parameter annotations at runtime.
from datetime import UTC, datetime

from dagster import AssetExecutionContext, MaterializeResult, MetadataValue, asset

from oms_pipeline.defs.notes.resources import NotesResource
from oms_pipeline.domain.notes.local import corpus_hash, heldout_evaluation
from oms_pipeline.resources import ShopifyResource, WarehouseResource
from oms_pipeline.services.notes import evaluation_markdown, parse_pending_notes

NOTES_GROUP = "order_signals"


@asset(group_name=NOTES_GROUP, deps=["orders"], kinds={"python", "scikitlearn"})
def order_note_tags(context: AssetExecutionContext, warehouse: WarehouseResource, shopify: ShopifyResource,
                    notes: NotesResource) -> MaterializeResult:
    """The customer note of every order decisions will look at next, parsed into the note tags (``NoteTag``)
    (gift, deliver_by, hold_until, ...), the two dates, gift message and delivery instructions, with
    the engine (local model or Claude), its model/prompt version and a confidence.

    One row per order version in ``order_note_tags``; versions parsed before are skipped, and a new
    version with an unchanged note carries its parse over. Metadata: counts per tag, fallbacks to the
    local engine, and for the Anthropic engine its requests, tokens and cost estimate. Nothing
    personal (notes, gift messages, instructions) is logged or put in metadata.
    """
    wh = warehouse.open()
    engine = notes.note_engine()
    summary = parse_pending_notes(wh, shopify.shop_domain, engine, datetime.now(UTC), context.run.run_id)
    if summary.unreadable:
        context.log.warning("%d orders could not be read again: %s", len(summary.unreadable),
                            "; ".join(summary.unreadable[:5]))
    if summary.fallbacks:
        context.log.warning("%d notes fell back to the local engine: %s", sum(summary.fallbacks.values()),
                            dict(summary.fallbacks))
    meta = summary.metadata()
    return MaterializeResult(metadata={
        "engine": summary.engine,
        "engine_version": summary.version,
        "candidates": summary.candidates,
        "parsed": summary.parsed,
        "reused": summary.reused,
        "already_parsed": summary.already_parsed,
        "without_note": summary.without_note,
        "stored": summary.stored,
        "low_confidence": summary.low_confidence,
        "tags": MetadataValue.json(meta["tags"]),
        "answered_by": MetadataValue.json(meta["answered_by"]),
        "fallbacks": MetadataValue.json(meta["fallbacks"]),
        "llm_usage": MetadataValue.json(meta["llm"]),
        "llm_cost_usd": float(meta["llm"].get("cost_usd", 0.0)),
    })


@asset(group_name=NOTES_GROUP, kinds={"python", "scikitlearn"})
def note_tags_evaluation(context: AssetExecutionContext) -> MaterializeResult:
    """How well the local note engine tags notes it has never seen: trained on the corpus' training
    templates, scored on the held-out templates (no template on both sides), per tag precision,
    recall and F1, the macro-F1 the acceptance criterion reads, and the date extraction accuracy.
    """
    result = heldout_evaluation()
    context.log.info("local note engine: held-out macro-F1 %.4f on %d notes", result["macro_f1"], result["n_test"])
    return MaterializeResult(metadata={
        "macro_f1": result["macro_f1"],
        "exact_match": result["exact_match"],
        "n_train": result["n_train"],
        "n_test": result["n_test"],
        "corpus_hash": corpus_hash(),
        "per_tag": MetadataValue.md(evaluation_markdown(result)),
        "per_tag_json": MetadataValue.json(result["per_tag"]),
        "dates": MetadataValue.json(result["dates"]),
    })
