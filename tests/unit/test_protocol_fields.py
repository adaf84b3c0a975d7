"""protocol.fields and protocol.request without a server: each bad field is a request.*
error that names it; form text becomes numbers and booleans the same way everywhere."""

from __future__ import annotations

import math

import pytest

from atelico.errors import RequestError
from atelico.protocol.fields import Fields
from atelico.protocol.request import form_bool, form_float


def bad(fn, *args, **kw) -> RequestError:
    with pytest.raises(RequestError) as err:
        fn(*args, **kw)
    return err.value


def test_str_defaults_required_limits_and_choices():
    f = Fields({"a": "x", "empty": "", "long": "y" * 5, "n": 3})
    assert f.str("a") == "x" and f.str("missing", "d") == "d" and f.str("empty", "d") == ""
    assert bad(f.str, "missing", required=True, missing_code="request.missing_model").code == "request.missing_model"
    assert bad(f.str, "empty", required=True).details == {"field": "empty"}
    assert "longer than 4" in bad(f.str, "long", max_len=4).message
    err = bad(f.str, "a", choices=("p", "q"))
    assert err.code == "request.invalid" and "['p', 'q']" in err.message and "'x'" in err.message
    assert "must be a string, got int" in bad(f.str, "n").message


@pytest.mark.parametrize("value,why", [(True, "must be a number, got bool"), ("1", "must be a number, got str"),
                                       (math.nan, "must be finite"), (math.inf, "must be finite"),
                                       (9, "between 0 and 5")])
def test_float_refuses(value, why):
    err = bad(Fields({"x": value}).float, "x", 1.0, lo=0, hi=5)
    assert why in err.message and err.details == {"field": "x"}


def test_float_int_bool_and_lists_accept():
    f = Fields({"x": 2, "i": 3, "b": False, "one": "w", "many": ["a", "b"]})
    assert f.float("x", 1.0) == 2.0 and isinstance(f.float("x", 1.0), float)
    assert f.float("none", 1.5) == 1.5 and f.int("i", None, lo=0, hi=3) == 3
    assert f.bool("b", True) is False and f.bool("none", True) is True
    assert f.str_list("one") == ["w"] and f.str_list("many") == ["a", "b"] and f.str_list("none") == []
    assert "between 4 and 9" in bad(f.int, "i", None, lo=4, hi=9).message
    assert "must be an integer, got bool" in bad(Fields({"i": True}).int, "i", None).message
    assert "true or false" in bad(Fields({"b": 1}).bool, "b", False).message
    assert "list of strings" in bad(Fields({"l": ["a", 1]}).str_list, "l").message


@pytest.mark.parametrize("raw,expected", [(None, 0.5), ("", 0.5), ("0.25", 0.25), (1, 1.0), ("1e-1", 0.1)])
def test_form_float_reads_text_and_json(raw, expected):
    assert form_float({"t": raw}, "t", 0.5, 0.0, 1.0) == pytest.approx(expected)


@pytest.mark.parametrize("raw,why", [("abc", "must be a number"), ("2", "between 0.0 and 1.0"),
                                     ("nan", "must be finite"), (True, "got bool")])
def test_form_float_refuses(raw, why):
    assert why in bad(form_float, {"t": raw}, "t", 0.5, 0.0, 1.0).message


@pytest.mark.parametrize("raw,expected", [(None, False), ("", False), ("true", True), ("TRUE ", True),
                                          ("1", True), ("0", False), ("false", False), (True, True)])
def test_form_bool(raw, expected):
    assert form_bool({"o": raw}, "o") is expected


def test_form_bool_refuses_other_words():
    err = bad(form_bool, {"o": "yes"}, "o")
    assert err.code == "request.invalid" and err.details == {"field": "o"}
