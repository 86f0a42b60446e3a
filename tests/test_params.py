"""The parameter registry: model parameters and lever settings, one type, one check rule."""

from __future__ import annotations

import math

import numpy as np
import pytest

from sim import params
from sim.params import GROUPS, PARAMS, STRUCTURAL, Param, ParameterError, check_structural, validate
from sim.policies import REGISTRY, PolicyError, check_settings

ALL = sorted(PARAMS)
NUMERIC = sorted(n for n, p in PARAMS.items() if p.kind in ("float", "int"))
INTS = sorted(n for n, p in PARAMS.items() if p.kind == "int")
FLOATS = sorted(n for n, p in PARAMS.items() if p.kind == "float")
CHOICES = sorted(n for n, p in PARAMS.items() if p.kind == "choice")
SETTINGS = sorted(n for n, p in PARAMS.items() if p.lever)


def test_registry_is_not_empty_and_keyed_by_name() -> None:
    assert len(PARAMS) > 50
    for name, p in PARAMS.items():
        assert isinstance(p, Param) and p.name == name
    assert {"incentive_rp_month", "recruitment_lag_months", "training_prob_month", "caseload_cap.cap",
            "supervision.ratio", "training_platform.modules"} <= set(PARAMS)


def test_every_lever_setting_is_registered_under_its_lever() -> None:
    assert set(params.LEVERS) == set(REGISTRY)
    for name, cls in REGISTRY.items():
        assert cls.settings == params.lever_settings(name) and cls.settings, name
        for key, spec in cls.settings.items():
            assert PARAMS[f"{name}.{key}"] is spec
            assert spec.lever == name and spec.group == name and spec.key == key
    assert all(PARAMS[n].lever is None for n in params.MODEL_PARAMS)
    assert set(params.MODEL_PARAMS) | set(SETTINGS) == set(PARAMS)


def test_no_knob_exists_twice() -> None:
    """evaluation_scheme and ideal_caseload are gone: the lever and the reporting line replace them."""
    assert "evaluation_scheme" not in PARAMS and "ideal_caseload" not in PARAMS
    assert params.IDEAL_CASELOAD == 150
    # the two left are baseline vs lever value, labelled so
    assert "while the lever is on" in PARAMS["supervision.ratio"].label
    assert "while the lever is on" in PARAMS["local_redistribution.local_hiring_share"].label
    assert "baseline" in PARAMS["local_redistribution.local_hiring_share"].source


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
        assert p.kind in ("float", "int", "bool", "choice", "list[str]")
        checked = p.check(p.default)
        default = list(p.default) if p.kind == "list[str]" else p.default
        assert checked == default
        assert type(checked) is type(default)
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
        assert p.tag in params.TAGS and p.source.lstrip().startswith("[" + p.tag), (p.tag, p.source)
        assert p.group in GROUPS

    assert _problems(check, ALL) == []


def test_groups_are_the_documented_ones() -> None:
    assert GROUPS == ("time", "quality", "families", "burnout", "skills", "pay", *params.LEVERS)
    assert params.LEVERS == ("supervision", "regional_incentive", "local_redistribution", "caseload_cap",
                             "training_platform", "outcome_evaluation")


@pytest.mark.parametrize(("source", "tag"), [("[S] x", "S"), ("[S, low confidence] x", "S"), ("[D] x", "D"),
                                             ("[A]", "A"), ("no tag", "")])
def test_tag_is_read_from_the_source(source: str, tag: str) -> None:
    assert Param("x", 1.0, 0, 2, "u", "l", source, "time").tag == tag


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


def test_int_parameters_take_whole_floats_and_numpy_ints_only() -> None:
    """The same rule for model parameters and lever settings (caseload_cap.cap, every_months)."""
    def check(name: str) -> None:
        p = PARAMS[name]
        for whole in (float(p.default), np.int64(p.default), np.float64(p.default)):
            value = validate({name: whole})[name]
            assert value == p.default and type(value) is int, repr(whole)
        with pytest.raises(ParameterError, match="expected an integer") as e:
            validate({name: p.default + 0.5})
        assert e.value.key == name

    assert {"caseload_cap.cap", "local_redistribution.every_months"} <= set(INTS)
    assert _problems(check, INTS) == []


def test_float_parameters_take_numpy_scalars_and_return_python_floats() -> None:
    def check(name: str) -> None:
        p = PARAMS[name]
        mid = 0.5 * ((p.low or 0) + (p.high or 0))
        for v in (np.float64(p.default), np.float32(mid), np.int64(math.ceil(p.low or 0))):
            out = validate({name: v})[name]
            assert type(out) is float and out == float(v), repr(v)

    assert "supervision.ratio" in FLOATS
    assert _problems(check, FLOATS) == []


@pytest.mark.parametrize("name", ["caseload_cap.cap", "supervision.ratio", "visit_h"])
def test_lever_settings_and_parameters_agree_through_every_entry_point(name: str) -> None:
    """Scenario check (check_settings), registry check and validate: one rule, one error type."""
    p = PARAMS[name]
    bad = (p.high or 0) + 1
    with pytest.raises(ParameterError) as e:
        validate({name: bad})
    assert e.value.key == name
    if p.lever:
        with pytest.raises(PolicyError) as pe:
            check_settings(p.lever, {p.key: bad})
        assert isinstance(pe.value, ParameterError) and pe.value.key == p.key
        assert check_settings(p.lever, {p.key: np.int64(int(p.low or 0) + 1)})[p.key] == int(p.low or 0) + 1


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
    assert "`caseload params`" in str(e.value) and "visit_h" not in str(e.value)  # no full list
    assert e.value.key == "zzz_nothing_like_it"


def test_unknown_name_message_shows_three_closest_at_most() -> None:
    with pytest.raises(ParameterError) as e:
        validate({"caseload_cap.caps": 1})
    msg = str(e.value)
    assert "Did you mean 'caseload_cap.cap'" in msg and msg.count("'caseload_cap.") <= 4  # the name + 3
    assert "Valid" not in msg


def test_short_lists_are_listed_in_full_with_correct_plurals() -> None:
    msg = params.unknown_name_message("supervison", REGISTRY, "policy lever")
    assert "Did you mean 'supervision'" in msg and "Valid policy levers: " in msg and "policys" not in msg
    assert "Valid policies: " in params.unknown_name_message("x", ["a"], "policy")
    with pytest.raises(PolicyError) as e:
        check_settings("caseload_cap", {"capp": 1})
    assert str(e.value).startswith("unknown setting 'capp' of lever 'caseload_cap'. Did you mean 'cap'?")
    assert "'s" not in str(e.value) and "Valid settings: budget_rp_year, cap," in str(e.value)


def test_where_prefix_is_used_in_messages() -> None:
    with pytest.raises(ParameterError, match=r"^scenarios/x\.toml: parameter 'visit_h'"):
        validate({"visit_h": 99.0}, where="scenarios/x.toml")
    with pytest.raises(ParameterError, match=r"^scenarios/x\.toml: unknown parameter"):
        validate({"visit_hours": 1.0}, where="scenarios/x.toml")


def test_table_describes_every_parameter_and_lever_setting() -> None:
    rows = params.table()
    assert [r["name"] for r in rows] == list(PARAMS)
    for r in rows:
        p = PARAMS[r["name"]]
        assert set(r) == {"name", "group", "default", "low", "high", "unit", "label", "source", "kind",
                          "choices", "lever", "tag"}
        default = list(p.default) if p.kind == "list[str]" else p.default
        assert (r["default"], r["low"], r["high"], r["unit"], r["source"], r["kind"], r["lever"], r["tag"]) == (
            default, p.low, p.high, p.unit, p.source, p.kind, p.lever, p.tag)
    cap = next(r for r in rows if r["name"] == "caseload_cap.cap")
    assert cap["lever"] == "caseload_cap" and cap["tag"] == "S" and cap["group"] == "caseload_cap"


def test_validate_checks_dotted_lever_settings_but_model_defaults_exclude_them() -> None:
    full = validate({"caseload_cap.cap": 120.0})
    assert full["caseload_cap.cap"] == 120 and type(full["caseload_cap.cap"]) is int
    assert not any("." in k for k in params.defaults())
    model, levers = params.split({"visit_h": 1.0, "caseload_cap.cap": 120, "supervision.ratio": 10.0})
    assert model == {"visit_h": 1.0} and levers == {"caseload_cap": {"cap": 120}, "supervision": {"ratio": 10.0}}


# ---------------------------------------------------------------------------- structural inputs
@pytest.mark.parametrize(("name", "good", "bad"), [
    ("seed", [0, 7, 2**63 - 1, np.int64(3), 5.0], [-1, 2**63, 1.5, "7", True, None]),
    ("months", [1, 36, 600, np.int32(12)], [0, 601, 1.5, "12", False]),
    ("scale", [0.05, 0.1, 1, 2.0, np.float64(0.5)], [0.049, 0.0, -0.1, 2.01, float("nan"), "0.1", True]),
    ("start", ["2021-01", "1999-12"], ["2021-1", "2021-13", "21-01", 202101, "2021-01-01", None]),
])
def test_structural_inputs_are_checked_in_one_place(name: str, good: list[object], bad: list[object]) -> None:
    assert set(STRUCTURAL) == {"seed", "months", "scale", "start"}
    for v in good:
        check_structural(name, v)
    for v in bad:
        with pytest.raises(ParameterError, match=rf"^where: {name}( =|:)") as e:
            check_structural(name, v, "where")
        assert e.value.key == name


def test_structural_bounds_are_the_documented_ones() -> None:
    s = STRUCTURAL
    assert (s["seed"].low, s["seed"].high) == (0, 2**63 - 1)
    assert (s["months"].low, s["months"].high) == (1, 600)
    assert (s["scale"].low, s["scale"].high) == (0.05, 2.0)
    assert s["start"].kind == "month"


def test_numpy_floats_are_accepted() -> None:
    v = validate({"incentive_rp_month": np.float64(4e6)})["incentive_rp_month"]
    assert v == 4e6 and type(v) is float


def test_numpy_integers_are_accepted() -> None:
    v = validate({"recruitment_lag_months": np.int64(4), "incentive_rp_month": np.int64(4_000_000)})
    assert v["recruitment_lag_months"] == 4 and type(v["recruitment_lag_months"]) is int
    assert v["incentive_rp_month"] == 4e6 and type(v["incentive_rp_month"]) is float
