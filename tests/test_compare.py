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
                                                    "share_unvisited_3m", "cost_rp_cum", "cost_per_graduation_rp",
                                                    "cost_rp_month")},
                        "families": 100})
    reg["poor_people"] = 1000.0
    v = compare.end_values(reg, scale=0.5)
    assert v["poverty_rate_pct"] == 24.0  # state: last month
    assert v["attrition_pct_year"] == pytest.approx(24.0)  # %/year: 2 quits/month x 12 / 100 facilitators
    assert v["visits_per_family"] == pytest.approx(0.5)  # mean of the last 12 months
    assert v["graduations_cum"] == 480.0  # regency scale
    # optional indicators need their columns; the run length is kept for the headline
    assert set(v) == {i.name for i in compare.INDICATORS if not i.optional} | {"cost_year", "visits_cum", "months"}
    assert v["months"] == 24 and v["cost_year"] == pytest.approx(12 * np.arange(13, 25).mean())
    reg["vacancies"] = np.where(steps > 0, 3, 99)
    reg["posts"] = 10
    v = compare.end_values(reg, scale=0.5)
    assert v["vacancy_months"] == pytest.approx(24 * 3 / 0.5)  # summed over months 1-24, regency scale
    assert v["posts"] == 20 and v["posts_start"] == 20
    assert v["visits_cum"] == pytest.approx((12 * 0.1 + 12 * 0.5) * 100 / 0.5)  # visits/family x families, regency
    # a table the model writes now holds every count at regency scale already: no division
    reg["families_simulated"] = 50
    v = compare.end_values(reg, scale=0.5)
    assert v["graduations_cum"] == 240.0 and v["vacancy_months"] == 24 * 3 and v["posts"] == 10


def test_identical_scenario_has_exactly_zero_paired_difference(bdir: Path) -> None:
    c = compare.load(bdir)
    assert c.baseline == "baseline" and c.scenarios == ["baseline", "twin", "pricier", "baseline-official"]
    twin = c.table[c.table["scenario"] == "twin"]
    assert len(twin) == len(c.indicators)
    new = {"share_unvisited_6m", "burnout_family_mean", "p2k2_coverage", "posts", "vacancy_months", "cost_apbn_year",
           "share_unvisited_3m_kec_worst10", "visits_cum"}
    assert new <= {i.name for i in c.indicators}  # the model records the columns of the new indicators
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
    assert set(df["indicator"]) == {i.name for i in compare.load(bdir).indicators}
    assert (tmp_path / "c_icer.csv").exists() and (tmp_path / "c_budget.csv").exists()
    assert out.index("HEADLINE") < out.index("Poverty rate (")  # the headline comes first
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
    # the headline opens the report; Figure 1 has one panel per profile with BPS and the paper's figures
    assert doc.index("<h2>Headline</h2>") < doc.index("<h2>Scenarios</h2>") < doc.index('id="fig1"')
    assert "UNCALIBRATED" in doc and "too few" in doc  # 3 replicates, no posterior
    fig1 = re.search(r'<figure id="fig1">.*?</figure>', doc, flags=re.S)
    assert fig1 is not None
    f1 = fig1.group(0)
    assert "paper-2023 profile" in f1 and "official profile" in f1 and f1.count("<svg") == 2
    assert "Levianto &amp; Warsidi (2025)" in f1 and "Open Data Jabar" in f1
    assert "Cost-effectiveness" in doc and "Budget by funder" in doc and "% of facilitators per year" in doc
    # no fractional facilitators in the district tables
    for cells in re.findall(r'<table class="districts">.*?</table>', doc, flags=re.S):
        head = re.findall(r"<th>(.*?)</th>", cells)
        k = head.index("Facilitators")
        for row in re.findall(r"<tr><td.*?</tr>", cells, flags=re.S):
            v = re.findall(r"<td[^>]*>(.*?)</td>", row)[k]
            assert re.fullmatch(r"[\d,]+", v), v
    # every figure names its source
    figures = re.findall(r"<figure.*?</figure>", doc, flags=re.S)
    assert figures and all("Source: model estimate" in f for f in figures)


def test_report_ticks_and_text_helpers() -> None:
    assert report.nice_ticks(4.53, 6.31) == [4.5, 5.0, 5.5, 6.0, 6.5]
    t = report.nice_ticks(0, 481)
    assert t[0] == 0 and t[-1] >= 481
    assert report.text("<b> https://x.org") == "&lt;b&gt; x.org"
