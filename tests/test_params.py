"""The parameter registry: defaults, bounds, documentation and strict validation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import params
from sim.params import GROUPS, PARAMS, Param, ParameterError, validate

ALL = sorted(PARAMS)
NUMERIC = sorted(n for n, p in PARAMS.items() if p.kind in ("float", "int"))
INTS = sorted(n for n, p in PARAMS.items() if p.kind == "int")
CHOICES = sorted(n for n, p in PARAMS.items() if p.kind == "choice")


def test_registry_is_not_empty_and_keyed_by_name() -> None:
    assert len(PARAMS) > 50
    for name, p in PARAMS.items():
        assert isinstance(p, Param) and p.name == name
    assert {"incentive_rp_month", "recruitment_lag_months", "evaluation_scheme", "training_prob_month"} <= set(PARAMS)


def _problems(check: object, names: list[str]) -> list[str]:
    """Run ``check(name)`` for every name; return 'name: error' for each that fails."""
    out = []
    for name in names:
        try:
            check(name)  # type: ignore[operator]
        except (AssertionError, pytest.fail.Exception) as e:
            out.append(f"{name}: {e}")
    return out


def test_every_default_is_valid() -> None:
    def check(name: str) -> None:
        p = PARAMS[name]
        assert p.kind in ("float", "int", "bool", "choice")
        checked = p.check(p.default)
        assert checked == p.default
        assert type(checked) is type(p.default)
        if p.kind in ("float", "int"):
            assert p.low is not None and p.high is not None, "numbers need both bounds"
            assert p.low < p.high
            assert p.low <= p.default <= p.high
            assert isinstance(p.default, int if p.kind == "int" else float) and not isinstance(p.default, bool)
        if p.kind == "choice":
            assert p.default in p.choices and len(p.choices) >= 2

    assert _problems(check, ALL) == []


def test_every_parameter_has_unit_label_and_tagged_source() -> None:
    def check(name: str) -> None:
        p = PARAMS[name]
        assert p.unit.strip(), "unit"
        assert p.label.strip(), "label"
        assert p.source.startswith(("[S", "[D", "[A")), p.source
        assert p.group in GROUPS

    assert _problems(check, ALL) == []


def test_groups_are_the_documented_ones() -> None:
    assert GROUPS == ("time", "quality", "families", "burnout", "skills", "pay", "management")


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf, True, False, "1", "nan", None, [1.0]], ids=repr)
def test_validate_rejects_non_numbers(bad: object) -> None:
    def check(name: str) -> None:
        with pytest.raises(ParameterError, match=f"'{name}'"):
            validate({name: bad})

    assert _problems(check, NUMERIC) == []


def test_validate_rejects_out_of_range_naming_the_range() -> None:
    def check(name: str) -> None:
        p = PARAMS[name]
        assert p.low is not None and p.high is not None
        step = 1 if p.kind == "int" else max(1e-6, 1e-3 * (p.high - p.low))
        for value in (p.low - step, p.high + step):
            with pytest.raises(ParameterError, match=rf"'{name}' = .* is out of range: valid range is \[{p.low}, {p.high}\]"):
                validate({name: value})
        # the bounds themselves are valid
        assert validate({name: p.low})[name] == p.low
        assert validate({name: p.high})[name] == p.high

    assert _problems(check, NUMERIC) == []


def test_int_parameters_take_whole_floats_only() -> None:
    def check(name: str) -> None:
        p = PARAMS[name]
        value = validate({name: float(p.default)})[name]
        assert value == p.default and isinstance(value, int)
        with pytest.raises(ParameterError, match="expected an integer"):
            validate({name: p.default + 0.5})

    assert INTS
    assert _problems(check, INTS) == []


@pytest.mark.parametrize("name", CHOICES)
def test_choice_parameters_reject_other_values(name: str) -> None:
    p = PARAMS[name]
    for choice in p.choices:
        assert validate({name: choice})[name] == choice
    for bad in ("", p.choices[0].upper(), 1, None):
        with pytest.raises(ParameterError, match=f"'{name}': expected one of"):
            validate({name: bad})


def test_float_parameters_accept_ints_and_return_floats() -> None:
    v = validate({"incentive_rp_month": 4_000_000})["incentive_rp_month"]
    assert v == 4_000_000.0 and isinstance(v, float)


def test_validate_fills_defaults_and_does_not_share_state() -> None:
    full = validate({})
    assert full == params.defaults()
    full["incentive_rp_month"] = 1.0
    assert params.defaults()["incentive_rp_month"] == 3_150_000.0
    assert validate({})["incentive_rp_month"] == 3_150_000.0


def test_unknown_name_suggests_the_closest() -> None:
    with pytest.raises(ParameterError, match=r"unknown parameter 'incentive_rp_mnth'\. Did you mean 'incentive_rp_month'\?"):
        validate({"incentive_rp_mnth": 1})
    with pytest.raises(ParameterError) as e:
        validate({"zzz_nothing_like_it": 1})
    assert "Did you mean" not in str(e.value)
    assert "Valid parameters: " in str(e.value) and "visit_h" in str(e.value)


def test_where_prefix_is_used_in_messages() -> None:
    with pytest.raises(ParameterError, match=r"^scenarios/x\.toml: parameter 'visit_h'"):
        validate({"visit_h": 99.0}, where="scenarios/x.toml")
    with pytest.raises(ParameterError, match=r"^scenarios/x\.toml: unknown parameter"):
        validate({"visit_hours": 1.0}, where="scenarios/x.toml")


def test_table_describes_every_parameter() -> None:
    rows = params.table()
    assert [r["name"] for r in rows] == list(PARAMS)
    for r in rows:
        p = PARAMS[r["name"]]
        assert (r["default"], r["low"], r["high"], r["unit"], r["source"], r["kind"]) == (
            p.default, p.low, p.high, p.unit, p.source, p.kind)


def test_numpy_floats_are_accepted() -> None:
    v = validate({"incentive_rp_month": np.float64(4e6)})["incentive_rp_month"]
    assert v == 4e6 and type(v) is float


def test_numpy_integers_are_accepted() -> None:
    v = validate({"recruitment_lag_months": np.int64(4), "incentive_rp_month": np.int64(4_000_000)})
    assert v["recruitment_lag_months"] == 4 and type(v["recruitment_lag_months"]) is int
    assert v["incentive_rp_month"] == 4e6 and type(v["incentive_rp_month"]) is float
