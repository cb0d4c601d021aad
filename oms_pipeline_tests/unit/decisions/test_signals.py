from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from oms_pipeline.domain.decisions import (
    FraudAssessment,
    FulfillmentOutlook,
    NoteTag,
    NoteTags,
    keyword_note_tags,
    rule_based_fraud_assessment,
)
from oms_pipeline_tests.support.orders import address, make_order


def test_signal_models_validate_their_ranges():
    with pytest.raises(ValidationError):
        FraudAssessment(score=1.2, model_version="m")
    with pytest.raises(ValidationError):
        NoteTags(tags=frozenset({"teleport"}), engine="e", confidence=0.5)
    with pytest.raises(ValidationError):
        FulfillmentOutlook(available_by_sku={"A": -1}, one_location_ships_all=True, address_shippable=True)
    look = FulfillmentOutlook(available_by_sku={"A": 3}, one_location_ships_all=True, address_shippable=True)
    assert (look.available("A"), look.available("B"), look.incoming("A")) == (3, 0, 0)
    assert {t.value for t in NoteTag} == {
        "gift", "no_price_on_slip", "delivery_instructions", "signature_required", "deliver_by", "hold_until",
        "expedite", "address_change", "cancel_request", "item_change", "ship_complete", "local_pickup",
        "contact_customer",
    }  # fmt: skip


def test_rule_based_fraud_low_for_an_ordinary_repeat_order():
    order = make_order()
    assessment = rule_based_fraud_assessment(order, history=[make_order(order_id="900")])
    assert assessment.model_version == "rules-v1"
    assert assessment.score == 0 and assessment.reasons == ()


def test_rule_based_fraud_rules_fire_and_cap_at_one():
    risky = make_order([("MUG-BLK", 12, "100")], shipping=address("DE"), billing=address("US"))
    cancelled_for_fraud = make_order(order_id="900").model_copy(update={"cancel_reason": "fraud"})
    assessment = rule_based_fraud_assessment(risky, history=[cancelled_for_fraud])
    assert assessment.reasons == (
        "order value at least 1000 USD",
        "billing country differs from shipping country",
        "10 or more units of one item",
        "an earlier order was cancelled for fraud",
    )
    assert assessment.score == 1.0
    first = rule_based_fraud_assessment(make_order().model_copy(update={"customer": None}))
    assert first.reasons == ("first order from this customer",) and first.score == pytest.approx(0.15)
    assert rule_based_fraud_assessment(make_order([("MUG-BLK", 1, "50")]), high_value=Decimal("40")).score > 0


@pytest.mark.parametrize(
    ("note", "expected"),
    [
        (None, set()),
        ("   ", set()),
        ("Please CANCEL my order", {NoteTag.CANCEL_REQUEST}),
        ("It's a gift, no prices on the slip please", {NoteTag.GIFT, NoteTag.NO_PRICE_ON_SLIP}),
        ("no need for gift wrap", set()),
        ("please don't cancel, just ship it", set()),
        ("leave at the back door, gate code 4411", {NoteTag.DELIVERY_INSTRUCTIONS}),
        ("urgent! ship everything together", {NoteTag.EXPEDITE, NoteTag.SHIP_COMPLETE}),
        ("I will pick up in store", {NoteTag.LOCAL_PICKUP}),
        ("signature needed; call me first", {NoteTag.SIGNATURE_REQUIRED, NoteTag.CONTACT_CUSTOMER}),
        ("wrong address, new address follows", {NoteTag.ADDRESS_CHANGE}),
        ("Bitte stornieren", {NoteTag.CANCEL_REQUEST}),
        ("can I swap the size", {NoteTag.ITEM_CHANGE}),
    ],
)
def test_keyword_note_tags(note, expected):
    tags = keyword_note_tags(note)
    assert tags.tags == expected
    assert tags.engine == "keywords-v1"
    assert tags.deliver_by is None and tags.hold_until is None
