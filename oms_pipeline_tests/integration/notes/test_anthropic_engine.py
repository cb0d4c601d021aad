"""The Anthropic note engine end to end against a local Messages API over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from oms_pipeline.connectors.anthropic_notes import (
    PROMPT_VERSION,
    TOOL_NAME,
    AnthropicNoteEngine,
    tool_definition,
)
from oms_pipeline.domain.decisions.signals import NoteTag
from oms_pipeline.domain.notes.local import LocalNoteEngine
from oms_pipeline.domain.notes.model import NoteParse
from oms_pipeline_tests.support.fake_anthropic import (
    FAKE_KEY,
    OVERLOADED,
    RATE_LIMITED,
    FakeAnthropic,
    error_body,
    tool_use_message,
)

CREATED = datetime(2026, 3, 4, 10, 0, tzinfo=UTC)  # a Wednesday


def _local_stub(note: str | None, created_at: datetime | date) -> NoteParse:
    # The fallback path is what is under test here, not the local model's answer.
    return NoteParse(tags=frozenset({NoteTag.GIFT}), engine="local", version="local-stub", confidence=0.7)


@pytest.fixture
def api() -> Iterator[FakeAnthropic]:
    with FakeAnthropic() as server:
        yield server


@pytest.fixture(autouse=True)
def _no_real_api(monkeypatch: pytest.MonkeyPatch) -> None:
    # Whatever the developer's shell holds, no test may reach the real API.
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9")


def _engine(api: FakeAnthropic, **kw) -> AnthropicNoteEngine:
    kw.setdefault("local_fallback", _local_stub)
    kw.setdefault("max_retries", 2)
    return AnthropicNoteEngine(api_key=FAKE_KEY, base_url=api.url, timeout_s=5, **kw)


def test_tool_use_answer_becomes_a_note_parse(api: FakeAnthropic) -> None:
    api.queue.append((200, tool_use_message({
        "tags": ["gift", "hold_until", "delivery_instructions"], "deliver_by": None, "hold_until": "2026-03-12",
        "gift_message": "Happy birthday!", "instructions": "leave at the back door", "confidence": 0.93,
    }), {}))
    result = _engine(api, model="claude-haiku-4-5").parse(
        "please don't ship before the 12th, it's a gift \"Happy birthday!\", leave at the back door", CREATED)
    assert result.engine == "anthropic"
    assert result.version == f"anthropic-claude-haiku-4-5-{PROMPT_VERSION}"
    assert result.tags == {NoteTag.GIFT, NoteTag.HOLD_UNTIL, NoteTag.DELIVERY_INSTRUCTIONS}
    assert result.hold_until == date(2026, 3, 12)
    assert result.gift_message == "Happy birthday!"
    assert result.confidence == pytest.approx(0.93)
    assert result.as_note_tags().engine == result.version

    [request] = api.requests
    assert request.headers["x-api-key"] == FAKE_KEY
    assert request.body["model"] == "claude-haiku-4-5"
    assert request.body["tool_choice"] == {"type": "tool", "name": TOOL_NAME}
    assert request.body["tools"] == [tool_definition()]
    assert set(request.body["tools"][0]["input_schema"]["properties"]) == {
        "tags", "deliver_by", "hold_until", "gift_message", "instructions", "confidence"}
    assert "2026-03-04" in request.note  # relative dates need the order date


def test_environment_variables_select_key_and_base_url(api: FakeAnthropic, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_BASE_URL", api.url)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-from-env")
    engine = AnthropicNoteEngine(timeout_s=5, max_retries=0, local_fallback=_local_stub)
    assert engine.parse("it's a gift", CREATED).engine == "anthropic"
    assert api.requests[0].headers["x-api-key"] == "sk-ant-from-env"


@pytest.mark.parametrize("failure", [RATE_LIMITED, OVERLOADED], ids=["429", "529-overloaded"])
def test_rate_limit_and_overload_are_retried_by_the_sdk(api: FakeAnthropic, failure: tuple) -> None:
    api.queue.append(failure)
    result = _engine(api).parse("it's a gift", CREATED)
    assert result.engine == "anthropic" and result.fallback_reason is None
    assert NoteTag.GIFT in result.tags
    assert len(api.requests) == 2


def test_server_errors_beyond_the_retries_fall_back_to_local(api: FakeAnthropic) -> None:
    api.queue.extend([(500, error_body("api_error", "boom"), {"retry-after-ms": "10"})] * 3)
    engine = _engine(api, max_retries=1)
    result = engine.parse("it's a gift", CREATED)
    assert result.engine == "local"
    assert result.fallback_reason is not None and result.fallback_reason.startswith("api_error")
    assert len(api.requests) == 2
    assert engine.stats.fallbacks == 1


def test_invalid_tool_input_is_retried_once_then_valid(api: FakeAnthropic) -> None:
    api.queue.append((200, tool_use_message({"tags": ["not_a_tag"], "confidence": 2}), {}))
    engine = _engine(api)
    result = engine.parse("it's a gift", CREATED)
    assert result.engine == "anthropic"
    assert len(api.requests) == 2
    assert engine.stats.invalid_outputs == 1 and engine.stats.fallbacks == 0


def test_invalid_tool_input_twice_falls_back_to_the_local_engine(api: FakeAnthropic) -> None:
    api.queue.append((200, tool_use_message({"tags": ["not_a_tag"], "confidence": 0.5}), {}))
    api.queue.append((200, tool_use_message({"tags": "gift"}, name="some_other_tool"), {}))
    engine = _engine(api, local_fallback=LocalNoteEngine.train().parse)  # the real local engine
    result = engine.parse("it's a gift for my mum, please wrap it", CREATED)
    assert len(api.requests) == 2
    assert result.engine == "local"
    assert result.version.startswith("local-tfidf-")
    assert result.fallback_reason is not None and result.fallback_reason.startswith("invalid_tool_input")
    assert NoteTag.GIFT in result.tags
    assert engine.stats.invalid_outputs == 2 and engine.stats.fallbacks == 1


def test_same_note_is_sent_once_memory_and_disk_cache(api: FakeAnthropic, tmp_path: Path) -> None:
    engine = _engine(api, cache_dir=tmp_path / "cache")
    first = engine.parse("it's a gift, leave it at the back door", CREATED)
    second = engine.parse("it's a gift, leave it at the back door", CREATED)
    assert first == second
    assert len(api.requests) == 1
    assert engine.stats.cache_hits == 1 and engine.stats.api_calls == 1

    fresh = _engine(api, cache_dir=tmp_path / "cache")
    assert fresh.parse("it's a gift, leave it at the back door", CREATED) == first
    assert len(api.requests) == 1
    # A different order date is a different question (relative dates), so it is asked.
    engine.parse("it's a gift, leave it at the back door", datetime(2026, 3, 5, tzinfo=UTC))
    assert len(api.requests) == 2


def test_token_use_and_cost_are_counted(api: FakeAnthropic) -> None:
    engine = _engine(api, model="claude-sonnet-4-5")
    engine.parse("it's a gift", CREATED)
    engine.parse("please cancel", CREATED)
    meta = engine.stats.as_metadata()
    assert meta["input_tokens"] == 642 and meta["output_tokens"] == 108
    assert meta["cost_usd"] == pytest.approx((642 * 3 + 108 * 15) / 1e6)
    assert meta["notes"] == 2 and meta["api_calls"] == 2


def test_empty_note_never_calls_the_api(api: FakeAnthropic) -> None:
    result = _engine(api).parse("   ", CREATED)
    assert result.tags == frozenset() and result.confidence == 1.0
    assert api.requests == []


def test_no_personal_data_reaches_the_server_and_fields_are_unmasked_locally(api: FakeAnthropic) -> None:
    note = (
        "Gift for Maria Gonzalez from Jonas! Card: \"Love you Maria\". Leave it at the back door of "
        "12 Baker Street, Apt 4B, gate code 4411, or call +44 20 7946 0958 / jonas.weber@example.com. "
        "Lieferadresse Hauptstraße 5, Torcode 9090. I paid with 4111 1111 1111 1111 by mistake."
    )
    names = ["Maria", "Gonzalez", "Maria Gonzalez", "Jonas Weber"]
    result = _engine(api).parse(note, CREATED, names=names)
    [request] = api.requests
    sent = request.raw
    for secret in ["Maria", "Gonzalez", "Jonas", "jonas.weber@example.com", "7946", "0958", "Baker Street",
                   "Apt 4B", "4411", "Hauptstraße", "9090", "4111"]:
        assert secret not in sent, secret
    for placeholder in ["[NAME_", "[EMAIL_1]", "[PHONE_1]", "[STREET_1]", "[CODE_1]", "[CARD_1]"]:
        assert placeholder in sent
    # What came back masked is un-masked locally.
    assert result.gift_message == "Love you Maria"
    assert result.instructions is not None and "gate code 4411" in result.instructions
    assert "12 Baker Street" in result.instructions
