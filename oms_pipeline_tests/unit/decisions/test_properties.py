from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from oms_pipeline.domain.decisions import (
    FraudAssessment,
    FulfillmentOutlook,
    NoteTag,
    NoteTags,
    TriageOutcome,
    load_triage_rules,
    triage_order,
)
from oms_pipeline.domain.orders import FinancialStatus
from oms_pipeline_tests.support.orders import make_order

RULES = load_triage_rules()
SKUS = ["MUG-BLK", "COFFEE-250G", "SPOON-STEEL", "GIFT-BOX-DELUXE", "STARTER-KIT", "BREWER-V60", None]

lines = st.lists(
    st.tuples(st.sampled_from(SKUS), st.integers(1, 6), st.sampled_from(["0", "9.99", "120", "480.50"])),
    min_size=1,
    max_size=4,
)
orders = st.builds(
    lambda ls, tags, ctags, status, no_addr: make_order(
        ls, tags=tags, customer_tags=ctags, financial_status=status, no_shipping_address=no_addr
    ),
    lines,
    st.lists(st.sampled_from(["ship-complete", "wholesale"]), max_size=2).map(tuple),
    st.lists(st.sampled_from(["vip", "VIP", "b2b"]), max_size=2).map(tuple),
    st.sampled_from(list(FinancialStatus)),
    st.booleans(),
)
frauds = st.builds(lambda score: FraudAssessment(score=score, model_version="p", review_threshold=0.8),
                   st.floats(0, 1, allow_nan=False))
note_tags = st.builds(
    lambda tags: NoteTags(tags=tags, engine="p", confidence=0.7), st.frozensets(st.sampled_from(list(NoteTag)))
)
stock = st.dictionaries(st.sampled_from([s for s in SKUS if s]), st.integers(0, 8), max_size=6)
outlooks = st.builds(
    lambda a, i, one, ship: FulfillmentOutlook(
        available_by_sku=a, incoming_by_sku=i, one_location_ships_all=one, address_shippable=ship
    ),
    stock,
    stock,
    st.booleans(),
    st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(orders, frauds, note_tags, outlooks)
def test_triage_is_deterministic_and_explains_itself(order, fraud, notes, outlook):
    first = triage_order(order, RULES, fraud, notes, outlook)
    again = triage_order(order.model_copy(), RULES, fraud.model_copy(), notes.model_copy(), outlook.model_copy())
    assert first == again
    assert first.rules_version == RULES.version
    by_id = {r.id: r.outcome for r in RULES.rules}
    # Every flagged or exception rule that fired places a hold; annotation (standard) rules never do.
    holding = [rule_id for rule_id in first.fired_rule_ids if by_id[rule_id] is not TriageOutcome.STANDARD]
    assert [rule_id for rule_id, _ in first.hold_reasons] == holding
    if first.outcome is not TriageOutcome.STANDARD:
        assert first.reasons
    # The outcome is the most severe outcome among the rules that fired.
    fired = {by_id[rule_id] for rule_id in first.fired_rule_ids}
    expected = (
        TriageOutcome.EXCEPTION
        if TriageOutcome.EXCEPTION in fired
        else TriageOutcome.FLAGGED
        if TriageOutcome.FLAGGED in fired
        else TriageOutcome.STANDARD
    )
    assert first.outcome is expected
