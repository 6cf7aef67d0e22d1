"""dumps_indented writes exactly json.dumps(data, indent=1)'s text, faster."""

from __future__ import annotations

import enum
import json
from collections import OrderedDict

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reportgen.render.json_text import dumps_indented

_scalars = (st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True)
            | st.text())
_keys = st.text() | st.integers() | st.floats(allow_nan=False) | st.booleans() | st.none()
_data = st.recursive(_scalars, lambda inner: st.lists(inner, max_size=4)
                     | st.tuples(inner, inner) | st.dictionaries(_keys, inner, max_size=4),
                     max_leaves=30)


@settings(max_examples=400, deadline=None)
@given(_data, st.booleans())
def test_same_text_as_json_dumps(data, ascii_only):
    assert dumps_indented(data, ascii_only) == json.dumps(data, indent=1, ensure_ascii=ascii_only)


class Color(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize("data", [
    {"a": Color.RED}, [OrderedDict(x=1)], {"s": "\u2028\u00e9\"\\\n"}, [float("inf"), -0.0],
    {(1, 2): 3},
], ids=repr)
def test_other_types_are_json_dumps_own(data):
    try:
        want = json.dumps(data, indent=1, ensure_ascii=False)
    except TypeError as e:
        with pytest.raises(TypeError, match=str(e)):
            dumps_indented(data)
        return
    assert dumps_indented(data) == want
