"""The offline landing's fast JSON decoding gives what json gives, and fails as json fails."""

from __future__ import annotations

import json

import pytest

from oms_pipeline.services import reconcile_files as reconcile


@pytest.mark.parametrize("text", [
    '{"id": 5001, "price": "12.30", "qty": 2}',
    '{"a": 1, "a": 2}',
    '{"big": 99999999999999999999999, "neg": -9223372036854775809, "max": 18446744073709551615}',
    '{"inf": 1e400, "nan": NaN, "minf": -Infinity}',
    '{"floats": [0.1, 1E2, 5e-324, 1.7976931348623157e308, -0.0, 0.30000000000000004]}',
    '{"s": "caf\\u00e9 \\ud800 \\n"}',
    '  {"padded": true}  \n',
    '[1, "two", null]',
])
def test_fast_decoding_gives_what_json_gives(text):
    decoded = reconcile._loads(text, text.strip().encode())
    assert repr(decoded) == repr(json.loads(text))  # repr: tells 1 from 1.0 and keeps NaN comparable


@pytest.mark.parametrize("text", ["{not json", "[1,]", '"open', '{"a": 1} trailing', ""])
def test_bad_json_raises_json_own_error(text):
    with pytest.raises(json.JSONDecodeError) as expected:
        json.loads(text)
    with pytest.raises(json.JSONDecodeError) as got:
        reconcile._loads(text, text.strip().encode())
    assert (got.value.msg, got.value.pos) == (expected.value.msg, expected.value.pos)
