from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from oms_pipeline.domain.decisions import (
    HoldReason,
    TriageOutcome,
    TriageRulesError,
    expand_bundles,
    load_triage_rules,
    parse_triage_rules,
    triage_order,
)
from oms_pipeline.domain.decisions.triage import DEFAULT_RULES_PATH
from oms_pipeline.domain.orders import FinancialStatus
from oms_pipeline_tests.support.orders import address, fraud, make_order, notes, outlook

RULES = load_triage_rules()
KIT_STOCK = {"MUG-BLK": 10, "COFFEE-250G": 10, "SPOON-STEEL": 10}


def _triage(order=None, *, fraud_score=0.1, note_tags=(), look=None):
    return triage_order(order or make_order(), RULES, fraud(fraud_score), notes(*note_tags), look or outlook())


def test_plain_order_is_standard_and_stamped_with_versions():
    decision = _triage()
    assert decision.outcome is TriageOutcome.STANDARD
    assert decision.reasons == () and decision.hold_reasons == ()
    assert decision.rules_version == RULES.version == "2025.3"
    assert (decision.fraud_model_version, decision.notes_engine) == ("test-fraud", "test-notes")


SEED_CASES = {
    # Annotation rules: the reason (and its tag) is kept, no hold is placed.
    "vip": (dict(order=make_order(customer_tags=("VIP",))), TriageOutcome.STANDARD, "vip-customer", None),
    "high value": (
        dict(order=make_order([("MUG-BLK", 1, "500")])),
        TriageOutcome.FLAGGED,
        "high-value-order",
        HoldReason.OTHER,
    ),
    "split shipment": (
        dict(look=outlook(one_location=False)),
        TriageOutcome.STANDARD,
        "split-shipment",
        None,
    ),
    "backorder": (
        dict(order=make_order([("MUG-BLK", 5, "10")]), look=outlook({"MUG-BLK": 2}, incoming={"MUG-BLK": 10})),
        TriageOutcome.FLAGGED,
        "backordered-line",
        HoldReason.INVENTORY_OUT_OF_STOCK,
    ),
    "kit": (
        dict(order=make_order([("GIFT-BOX-DELUXE", 1, "60")]), look=outlook(KIT_STOCK)),
        TriageOutcome.FLAGGED,
        "kit-assembly",
        HoldReason.OTHER,
    ),
    "fraud": (dict(fraud_score=0.85), TriageOutcome.FLAGGED, "high-fraud-risk", HoldReason.HIGH_RISK_OF_FRAUD),
    "awaiting payment": (
        dict(order=make_order(financial_status=FinancialStatus.PENDING)),
        TriageOutcome.FLAGGED,
        "awaiting-payment",
        HoldReason.AWAITING_PAYMENT,
    ),
    "address change in note": (
        dict(note_tags=("address_change",)),
        TriageOutcome.FLAGGED,
        "address-change-requested",
        HoldReason.INCORRECT_ADDRESS,
    ),
    "cancel request in note": (
        dict(note_tags=("cancel_request", "gift")),
        TriageOutcome.EXCEPTION,
        "cancel-request-in-note",
        HoldReason.OTHER,
    ),
    "unshippable address": (
        dict(look=outlook(shippable=False)),
        TriageOutcome.EXCEPTION,
        "invalid-address",
        HoldReason.INCORRECT_ADDRESS,
    ),
    "missing address": (
        dict(order=make_order(no_shipping_address=True)),
        TriageOutcome.EXCEPTION,
        "invalid-address",
        HoldReason.INCORRECT_ADDRESS,
    ),
    "address without street": (
        dict(order=make_order(shipping=address(address1=None))),
        TriageOutcome.EXCEPTION,
        "invalid-address",
        HoldReason.INCORRECT_ADDRESS,
    ),
    "out of stock everywhere": (
        dict(look=outlook({"MUG-BLK": 0})),
        TriageOutcome.EXCEPTION,
        "out-of-stock-everywhere",
        HoldReason.INVENTORY_OUT_OF_STOCK,
    ),
    "ship complete requested, split needed": (
        dict(note_tags=("ship_complete",), look=outlook(one_location=False)),
        TriageOutcome.EXCEPTION,
        "ship-complete-conflict",
        HoldReason.OTHER,
    ),
    "ship complete by order tag, backordered": (
        dict(
            order=make_order([("MUG-BLK", 5, "10")], tags=("Ship-Complete",)),
            look=outlook({"MUG-BLK": 2}, incoming={"MUG-BLK": 3}),
        ),
        TriageOutcome.EXCEPTION,
        "ship-complete-conflict",
        HoldReason.OTHER,
    ),
}


@pytest.mark.parametrize("case", SEED_CASES)
def test_seed_cases(case):
    kwargs, outcome, rule_id, hold_reason = SEED_CASES[case]
    decision = _triage(**kwargs)
    assert decision.outcome is outcome
    assert rule_id in decision.fired_rule_ids
    if hold_reason is None:
        assert rule_id not in dict(decision.hold_reasons)
    else:
        assert (rule_id, hold_reason) in decision.hold_reasons
    reason = dict(decision.reasons)[rule_id]
    assert reason == next(r.reason for r in RULES.rules if r.id == rule_id)


def test_exception_beats_flagged_and_all_reasons_are_kept():
    order = make_order([("MUG-BLK", 1, "900")], customer_tags=("vip",))
    decision = _triage(order, fraud_score=0.95, look=outlook(shippable=False))
    assert decision.outcome is TriageOutcome.EXCEPTION
    assert set(decision.fired_rule_ids) == {"invalid-address", "high-fraud-risk", "high-value-order", "vip-customer"}
    # Reasons come in rule-file order, so the same inputs always list them the same way.
    ids = [r.id for r in RULES.rules]
    assert list(decision.fired_rule_ids) == sorted(decision.fired_rule_ids, key=ids.index)


def test_split_alone_does_not_conflict_without_ship_complete():
    decision = _triage(look=outlook(one_location=False))
    assert "ship-complete-conflict" not in decision.fired_rule_ids


def test_shortage_not_covered_by_inbound_stock_is_out_of_stock_not_backorder():
    decision = _triage(make_order([("MUG-BLK", 5, "10")]), look=outlook({"MUG-BLK": 2}, incoming={"MUG-BLK": 1}))
    assert decision.fired_rule_ids == ("out-of-stock-everywhere",)


def test_kit_components_drive_stock_checks():
    order = make_order([("GIFT-BOX-DELUXE", 2, "60")])
    short = dict(KIT_STOCK, **{"COFFEE-250G": 3})  # the kit needs 2 bags per box: 4 bags
    assert "out-of-stock-everywhere" in _triage(order, look=outlook(short)).fired_rule_ids
    assert "out-of-stock-everywhere" not in _triage(order, look=outlook(KIT_STOCK)).fired_rule_ids


def test_expand_bundles():
    order = make_order([("GIFT-BOX-DELUXE", 2, "60"), ("MUG-BLK", 1, "20"), (None, 1, "5")])
    assert expand_bundles(order, RULES.bundles) == [
        ("MUG-BLK", 3),
        ("COFFEE-250G", 4),
        ("SPOON-STEEL", 2),
        ("line:3", 1),
    ]
    assert expand_bundles(order, {}) == [("GIFT-BOX-DELUXE", 2), ("MUG-BLK", 1), ("line:3", 1)]


def test_version_comes_from_the_file(tmp_path: Path):
    data = yaml.safe_load(DEFAULT_RULES_PATH.read_text())
    data["version"] = "2099.7"
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(data))
    rules = load_triage_rules(path)
    assert triage_order(make_order(), rules, fraud(), notes(), outlook()).rules_version == "2099.7"


def _rules_with(rule: dict) -> dict:
    return {"version": "t", "rules": [{"id": "ok", "outcome": "flagged", "reason": "r", "hold_reason": "OTHER",
                                       "when": {"requires_split": True}}, rule]}  # fmt: skip


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"outcome": "flagged", "reason": "r", "hold_reason": "NOPE", "when": {"requires_split": True}}, "hold_reason"),
        ({"outcome": "standard", "reason": "r", "hold_reason": "OTHER", "when": {"requires_split": True}}, "(rule)"),
        ({"outcome": "flagged", "reason": "r", "when": {"requires_split": True}}, "(rule)"),
        ({"outcome": "flagged", "reason": "r", "hold_reason": "OTHER", "when": {"fraud_score_at_least": 2}},
         "when.fraud_score_at_least"),
        ({"outcome": "flagged", "reason": "r", "hold_reason": "OTHER", "when": {"moon_phase_is": "full"}},
         "when.moon_phase_is"),
        ({"outcome": "flagged", "reason": "r", "hold_reason": "OTHER", "when": {"note_tag_any": ["telepathy"]}},
         "when.note_tag_any.0"),
        ({"outcome": "flagged", "reason": "r", "hold_reason": "OTHER", "when": {"any": [{}]}}, "when.any.0"),
        ({"outcome": "flagged", "hold_reason": "OTHER", "when": {"requires_split": True}}, "reason"),
    ],
)  # fmt: skip
def test_bad_rule_names_rule_id_and_field(rule, field):
    with pytest.raises(TriageRulesError) as caught:
        parse_triage_rules(_rules_with({"id": "broken-rule", **rule}))
    assert f"rule 'broken-rule' (rules[1]) field {field}:" in str(caught.value)


def test_bad_rule_file_on_disk_names_the_file(tmp_path: Path):
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(_rules_with({"id": "x", "outcome": "flagged", "reason": "r",
                                                "hold_reason": "OTHER", "when": {}})))  # fmt: skip
    with pytest.raises(TriageRulesError, match=r"rules\.yaml[\s\S]*rule 'x' \(rules\[1\]\) field when"):
        load_triage_rules(path)
    path.write_text("rules: [unclosed")
    with pytest.raises(TriageRulesError, match="not YAML"):
        load_triage_rules(path)


def test_duplicate_rule_ids_and_bad_bundles_are_refused():
    data = _rules_with({"id": "ok", "outcome": "flagged", "reason": "r", "hold_reason": "OTHER",
                        "when": {"requires_split": True}})  # fmt: skip
    with pytest.raises(TriageRulesError, match="rule 'ok': id is used twice"):
        parse_triage_rules(data)
    base = {"version": "t", "rules": data["rules"][:1]}
    with pytest.raises(TriageRulesError, match="component 'KIT-B' is itself a bundle"):
        parse_triage_rules({**base, "bundles": {"KIT-A": {"KIT-B": 1}, "KIT-B": {"X": 1}}})
    with pytest.raises(TriageRulesError, match="quantity must be at least 1"):
        parse_triage_rules({**base, "bundles": {"KIT-A": {"X": 0}}})


def test_boolean_predicates_compare_and_combinators_nest():
    rules = parse_triage_rules(
        {
            "version": "t",
            "rules": [
                {
                    "id": "vip-split-or-kit",
                    "outcome": "flagged",
                    "reason": "r",
                    "hold_reason": "OTHER",
                    "when": {
                        "customer_tag_any": ["vip"],
                        "any": [{"requires_split": True}, {"all": [{"contains_bundle_sku": False}]}],
                    },
                }
            ],
        }
    )
    vip = make_order(customer_tags=("vip",))
    assert triage_order(vip, rules, fraud(), notes(), outlook()).outcome is TriageOutcome.FLAGGED
    assert triage_order(make_order(), rules, fraud(), notes(), outlook()).outcome is TriageOutcome.STANDARD
