"""Comparison of a batch's scenarios (intervals, paired differences, CSV) and the self-contained HTML report."""

from __future__ import annotations

import io
import math
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis import compare, report
from cli import main as cli
from runs import batch
from runs.scenario import load_any

SEED, MONTHS, SCALE, REPS = 23, 6, 0.1, 3


@pytest.fixture(scope="module")
def bdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """baseline, an identical copy under another name, a costlier scenario and the official profile."""
    d = tmp_path_factory.mktemp("scen")
    (d / "twin.toml").write_text('name = "twin"\nextends = "baseline"\ndescription = "same as the baseline"\n')
    (d / "pricier.toml").write_text('name = "pricier"\nextends = "baseline"\ndescription = "see https://example.org/x"\n'
                                    "[parameters]\nincentive_rp_month = 4500000.0\n")
    scs = [load_any("baseline"), load_any(str(d / "twin.toml")), load_any(str(d / "pricier.toml")),
           load_any("baseline-official")]
    out = tmp_path_factory.mktemp("batch") / "b"
    res = batch.run_plan(batch.plan_batch(scs, REPS, master_seed=SEED, months=MONTHS, scale=SCALE), out, jobs=2,
                         stream=io.StringIO())
    assert res.ok
    return out


def test_t_interval() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0])
    n, mean, _sd, lo, hi = compare.t_interval(x)
    half = stats.t.ppf(0.975, 3) * x.std(ddof=1) / 2
    assert n == 4 and mean == pytest.approx(3.5) and lo == pytest.approx(3.5 - half) and hi == pytest.approx(3.5 + half)
    assert compare.t_interval([2.5, 2.5, 2.5])[1:] == (2.5, 0.0, 2.5, 2.5)
    assert compare.t_interval([0.0, 0.0])[1:] == (0.0, 0.0, 0.0, 0.0)
    n, mean, *rest = compare.t_interval([3.0])
    assert n == 1 and mean == 3.0 and all(math.isnan(v) for v in rest)
    assert compare.t_interval([math.nan, 1.0, 3.0])[0] == 2


def test_end_values_states_flows_and_counts() -> None:
    steps = np.arange(25)
    reg = pd.DataFrame({"step": steps, "facilitators": 100, "quits": np.where(steps > 0, 2, 0),
                        "visits_per_family": np.where(steps > 12, 0.5, 0.1), "graduations_cum": steps * 10,
                        **{c: steps * 1.0 for c in ("poverty_rate_pct", "caseload_mean", "caseload_p95",
                                                    "share_fac_over_cap", "burnout_mean", "share_burned_out",
                                                    "share_unvisited_3m", "cost_rp_cum", "cost_per_graduation_rp")}})
    v = compare.end_values(reg, scale=0.5)
    assert v["poverty_rate_pct"] == 24.0  # state: last month
    assert v["attrition"] == pytest.approx(24 / 100)  # 2 quits/month x 12 / 100 facilitators
    assert v["visits_per_family"] == pytest.approx(0.5)  # mean of the last 12 months
    assert v["graduations_cum"] == 240.0  # the table is already at regency scale (sim.metrics)
    assert set(v) == {i.name for i in compare.INDICATORS}


def test_identical_scenario_has_exactly_zero_paired_difference(bdir: Path) -> None:
    c = compare.load(bdir)
    assert c.baseline == "baseline" and c.scenarios == ["baseline", "twin", "pricier", "baseline-official"]
    twin = c.table[c.table["scenario"] == "twin"]
    assert len(twin) == len(compare.INDICATORS)
    assert (twin["diff_n"] == REPS).all()
    assert (twin["diff_mean"] == 0.0).all() and (twin["diff_ci_low"] == 0.0).all() and (twin["diff_ci_high"] == 0.0).all()
    base = c.table[c.table["scenario"] == "baseline"].set_index("indicator")
    assert (twin.set_index("indicator")["mean"] == base["mean"]).all()
    # paired: the difference is computed replicate by replicate
    e = c.ends
    d = (e[e.scenario == "pricier"].set_index("replicate")["cost_rp_cum"]
         - e[e.scenario == "baseline"].set_index("replicate")["cost_rp_cum"])
    row = c.table[(c.table.scenario == "pricier") & (c.table.indicator == "cost_rp_cum")].iloc[0]
    assert row["diff_mean"] == pytest.approx(d.mean()) and row["diff_mean"] > 0  # higher pay costs more
    assert row["diff_ci_low"] > 0


def test_compare_cli_prints_and_writes_csv(bdir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["compare", str(bdir), "--baseline", "twin", "--csv", str(tmp_path / "c.csv")]) == 0
    out = capsys.readouterr().out
    assert "t-interval" in out and "(baseline)" in out and "Poverty rate" in out
    df = pd.read_csv(tmp_path / "c.csv")
    assert set(df["indicator"]) == {i.name for i in compare.INDICATORS}
    assert set(df["scenario"]) == {"baseline", "twin", "pricier", "baseline-official"}
    assert (df["baseline"] == "twin").all()
    for col in ("n", "mean", "ci_low", "ci_high", "p2_5", "p97_5", "diff_mean", "diff_ci_low", "diff_ci_high"):
        assert col in df.columns
    assert cli.main(["compare", str(bdir)]) == 0
    assert (bdir / "compare.csv").exists()
    capsys.readouterr()
    assert cli.main(["compare", str(bdir), "--baseline", "nope"]) == 2
    assert "not a scenario of this batch" in capsys.readouterr().err
    assert cli.main(["compare", str(tmp_path)]) == 2
    assert "no manifest.json" in capsys.readouterr().err


def test_report_is_self_contained_with_svg_figures(bdir: Path, tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    assert cli.main(["compare", str(bdir), "--report", str(path)]) == 0
    doc = path.read_text(encoding="utf-8")
    assert "http://" not in doc and "https://" not in doc  # no external reference at all
    assert "<script" not in doc.lower() and "@import" not in doc and "url(" not in doc
    assert not re.search(r"\b(src|href)\s*=\s*\"(?!#)", doc)  # only in-page anchors
    svgs = re.findall(r"<svg\b.*?</svg>", doc, flags=re.S)
    assert len(svgs) >= 8
    for s in svgs:
        ET.fromstring(s)  # each chart is well-formed markup
    assert "model estimate" in doc
    assert "BPS" in doc and "paper" in doc  # the official profile's BPS series and the paper's figures
    assert "Open Data Jabar" in doc  # the source of the BPS figures is named
    assert "example.org/x" in doc  # a URL in a description is kept as plain text, without its scheme
    for name in ("baseline", "twin", "pricier", "baseline-official"):
        assert f"<summary>{name}: " in doc  # a district table per scenario
    for col in ("KPM families", "Facilitators", "Caseload", "WISN ratio", "Burnout", "Poverty rate"):
        assert col in doc
    assert "1:150" in doc and "Cost per graduated family" in doc and "Attrition" in doc
    assert "Home visits per family" in doc
    # every figure names its source
    figures = re.findall(r"<figure.*?</figure>", doc, flags=re.S)
    assert figures and all("Source: model estimate" in f for f in figures)


def test_report_ticks_and_text_helpers() -> None:
    assert report.nice_ticks(4.53, 6.31) == [4.5, 5.0, 5.5, 6.0, 6.5]
    t = report.nice_ticks(0, 481)
    assert t[0] == 0 and t[-1] >= 481
    assert report.text("<b> https://x.org") == "&lt;b&gt; x.org"
