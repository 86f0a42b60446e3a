"""Parameter sweeps over sim.params and sensitivity analysis (scipy.stats.qmc, SALib).

``caseload sweep BASE.toml --param NAME=LOW:HIGH ... --samples N`` draws N design points
in the box of the given ranges and runs every point with R replicates on the batch runner
(same runner, same resumable folder layout, same manifest; runs.batch). Replicate i of
every point gets the same seed (common random numbers), so the differences between points
are not blurred by different shocks.

Designs (seeded, reproducible):
  lhs      scipy.stats.qmc.LatinHypercube: N points.
  sobol    scipy.stats.qmc.Sobol (scrambled): N points (balanced when N is a power of 2).
           With --sensitivity: SALib's Saltelli scheme (SALib.sample.sobol, first and total
           order), N x (D + 2) points; Sobol indices S1 and ST by SALib.analyze.sobol.
  morris   SALib.sample.morris: N trajectories, N x (D + 1) points; elementary effects
           (mu*, sigma) by SALib.analyze.morris.
  lhs with --sensitivity: SALib.analyze.delta (Borgonovo's delta and S1), which takes any sample.

Integer parameters are rounded to the nearest integer inside their range; the analysis
uses the design matrix as drawn. A parameter is named as in sim.params and its LOW:HIGH
must lie within the parameter's bounds; choice, list and true/false parameters cannot be
swept. A lever setting is named ``lever.setting`` (``caseload_cap.cap=100:200``) and
varies that lever, which the base scenario must switch on.

Outputs: DIR/samples.csv (one row per design point: the parameter values as run, the
number of finished replicates, and the mean over replicates of every end-of-run indicator
of analysis.compare) and, with --sensitivity, DIR/sensitivity.csv (one row per output and
parameter).
"""

from __future__ import annotations

import math
import re
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis import compare
from runs import batch, store
from runs import io as sio
from runs.scenario import Scenario
from sim import params
from sim.rng import replicate_seeds

METHODS = ("lhs", "sobol", "morris")
DEFAULT_OUTPUTS = ("poverty_rate_pct", "burnout_mean")


@dataclass(frozen=True)
class Range:
    """A parameter and the range to sweep it over."""

    name: str
    low: float
    high: float
    kind: str  # float | int

    def value(self, u: float) -> float | int:
        """The parameter value for a design coordinate already in parameter units."""
        v = min(max(float(u), self.low), self.high)
        if self.kind == "int":
            return int(min(max(round(v), math.ceil(self.low)), math.floor(self.high)))
        return v


def parse_range(spec: str) -> Range:
    """``NAME=LOW:HIGH`` checked against sim.params (name, kind, bounds)."""
    m = re.fullmatch(r"\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*=\s*([^:]+?)\s*:\s*([^:]+?)\s*", spec)
    if not m:
        raise store.BatchError(f"--param {spec!r}: expected NAME=LOW:HIGH, e.g. incentive_rp_month=3000000:6000000")
    name, a, b = m.groups()
    p = params.PARAMS.get(name)
    if p is None:
        raise store.BatchError(f"--param {spec!r}: {params.unknown_name_message(name, params.PARAMS)}")
    if p.kind not in ("float", "int"):
        raise store.BatchError(f"--param {name}: a {p.kind} parameter cannot be swept (only numbers)")
    try:
        low, high = float(a), float(b)
    except ValueError:
        raise store.BatchError(f"--param {spec!r}: LOW and HIGH must be numbers") from None
    if not (math.isfinite(low) and math.isfinite(high)):
        raise store.BatchError(f"--param {spec!r}: LOW and HIGH must be finite")
    if not low < high:
        raise store.BatchError(f"--param {spec!r}: LOW must be below HIGH")
    if (p.low is not None and low < p.low) or (p.high is not None and high > p.high):
        raise store.BatchError(f"--param {spec!r}: outside the parameter's valid range [{p.low}, {p.high}] {p.unit}")
    if p.kind == "int" and math.floor(high) - math.ceil(low) < 1:
        raise store.BatchError(f"--param {spec!r}: an integer parameter needs at least two integers in its range")
    return Range(name, low, high, p.kind)


def problem_of(ranges: list[Range]) -> dict[str, Any]:
    """The SALib problem definition."""
    return {"num_vars": len(ranges), "names": [r.name for r in ranges], "bounds": [[r.low, r.high] for r in ranges]}


def design(ranges: list[Range], samples: int, method: str, seed: int, sensitivity: bool) -> tuple[np.ndarray, str | None]:
    """The design matrix (rows = points, in parameter units) and the analysis it supports."""
    from scipy.stats import qmc

    if method not in METHODS:
        raise store.BatchError(f"--method: expected one of {', '.join(METHODS)}, got {method!r}")
    if samples < 2:
        raise store.BatchError(f"--samples: expected at least 2, got {samples}")
    d = len(ranges)
    lows = np.array([r.low for r in ranges])
    highs = np.array([r.high for r in ranges])
    prob = problem_of(ranges)
    s32 = int(seed) % (2**32)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if method == "morris":
            from SALib.sample import morris as morris_sample

            return np.asarray(morris_sample.sample(prob, samples, num_levels=4, seed=s32)), "morris"
        if method == "sobol" and sensitivity:
            from SALib.sample import sobol as sobol_sample

            x = sobol_sample.sample(prob, samples, calc_second_order=False, scramble=True, seed=s32)
            return np.asarray(x), "sobol"
        if method == "sobol":
            eng = qmc.Sobol(d, scramble=True, seed=s32)
            m = int(math.log2(samples))
            u = eng.random_base2(m) if 2**m == samples else eng.random(samples)
        else:
            u = qmc.LatinHypercube(d, seed=s32).random(samples)
    return np.asarray(qmc.scale(u, lows, highs)), ("delta" if sensitivity else None)


def plan_sweep(base: Scenario, ranges: list[Range], samples: int, method: str = "lhs", seed: int = batch.DEFAULT_SEED,
               replicates: int = 1, months: int | None = None, scale: float | None = None,
               sensitivity: bool = False) -> store.Plan:
    """The runs of a sweep: every design point x replicates."""
    if not ranges:
        raise store.BatchError("give at least one --param NAME=LOW:HIGH")
    names = [r.name for r in ranges]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise store.BatchError(f"--param given more than once: {', '.join(dup)}")
    if replicates < 1:
        raise store.BatchError(f"--replicates: expected at least 1, got {replicates}")
    from sim.policies import PolicyError, with_overrides

    try:
        with_overrides(base.policies, {r.name: None for r in ranges}, where=f"--param (base scenario '{base.name}')")
    except PolicyError as e:
        raise store.BatchError(str(e)) from None
    m = base.months if months is None else months
    x = base.scale if scale is None else scale
    batch.check_scale(base, x)
    mat, analysis = design(ranges, samples, method, seed, sensitivity)
    seeds = replicate_seeds(seed, replicates)
    specs = []
    points = []
    for k, row in enumerate(mat):
        ov = {r.name: r.value(v) for r, v in zip(ranges, row)}
        points.append(ov)
        specs += [store.make_spec(base, i, seeds[i], m, x, overrides=ov, sample=k) for i in range(replicates)]
    identity = {"kind": "sweep", "base": {"name": base.name, "hash": store.scenario_hash(base, m, x)},
                "params": [[r.name, r.low, r.high] for r in ranges], "method": method, "samples": samples,
                "sensitivity": bool(sensitivity), "seed": seed, "months": m, "scale": x}
    info = {"design": {"method": method, "analysis": analysis, "problem": problem_of(ranges), "points": len(mat),
                       "matrix": mat.tolist(), "values": points}}
    desc = (f"sweep of {base.name}: {len(mat)} design points ({method}{', ' + analysis if analysis else ''}) x "
            f"{replicates} replicate(s) over {', '.join(names)}")
    return store.Plan("sweep", identity, specs, [base], seed, replicates, info=info, describe=desc)


def collect(out: Path, manifest: dict[str, Any] | None = None) -> pd.DataFrame:
    """One row per design point: parameter values, finished replicates, mean end-of-run indicators."""
    m = manifest or store.load_manifest(out)
    assert m is not None
    des = m["design"]
    names = des["problem"]["names"]
    base = pd.DataFrame([{"sample": k, **v} for k, v in enumerate(des["values"])])
    try:
        reg = store.read_table(out, "regency", m)
    except store.BatchError:
        reg = pd.DataFrame()
    rows = []
    scales = {k: float(e.get("scale", 1.0)) for k, e in m.get("runs", {}).items()}
    if not reg.empty:
        for run_id, g in reg.groupby("run_id", sort=False):
            rows.append({"sample": int(g["sample"].iloc[0]), **compare.end_values(g, scales.get(str(run_id), 1.0))})
    ind = [i.name for i in (compare.available(list(reg.columns)) if not reg.empty else compare.INDICATORS)]
    if rows:
        ends = pd.DataFrame(rows)
        agg = ends.groupby("sample")[ind].mean()
        agg.insert(0, "n_replicates", ends.groupby("sample").size())
        out_df = base.merge(agg.reset_index(), on="sample", how="left")
    else:
        out_df = base.assign(n_replicates=0, **{i: math.nan for i in ind})
    out_df["n_replicates"] = out_df["n_replicates"].fillna(0).astype(int)
    return out_df[["sample", *names, "n_replicates", *ind]]


def sensitivity(manifest: dict[str, Any], samples_df: pd.DataFrame, outputs: list[str], seed: int) -> pd.DataFrame:
    """Sensitivity indices of each output to each swept parameter (SALib)."""
    des = manifest["design"]
    analysis = des.get("analysis")
    prob = des["problem"]
    x = np.asarray(des["matrix"], dtype=np.float64)
    s32 = int(seed) % (2**32)
    rows = []
    for out in outputs:
        y = samples_df.sort_values("sample")[out].to_numpy(dtype=np.float64)
        if y.size != x.shape[0] or not np.all(np.isfinite(y)):
            raise store.BatchError(f"sensitivity of {out}: {int(np.sum(~np.isfinite(y)))} design point(s) have no result; "
                                   "re-run the sweep to finish them")
        with warnings.catch_warnings(record=True):  # SALib resets the filters itself: record and drop its notices
            warnings.simplefilter("ignore")
            if analysis == "sobol":
                from SALib.analyze import sobol as sobol_an

                si = sobol_an.analyze(prob, y, calc_second_order=False, conf_level=0.95, seed=s32)
                cols = {"S1": "S1", "S1_conf": "S1_conf", "ST": "ST", "ST_conf": "ST_conf"}
            elif analysis == "morris":
                from SALib.analyze import morris as morris_an

                si = morris_an.analyze(prob, x, y, conf_level=0.95, num_levels=4, seed=s32)
                cols = {"mu": "mu", "mu_star": "mu_star", "mu_star_conf": "mu_star_conf", "sigma": "sigma"}
            elif analysis == "delta":
                from SALib.analyze import delta as delta_an

                si = delta_an.analyze(prob, x, y, conf_level=0.95, seed=s32)
                raw = "delta_raw" if "delta_raw" in si else "delta"  # SALib >= 1.5 names the classic estimate delta_raw
                cols = {"delta": raw, "delta_conf": f"{raw}_conf", "S1": "S1", "S1_conf": "S1_conf"}
            else:
                raise store.BatchError("this sweep was not drawn for a sensitivity analysis; run it with --sensitivity")
        for j, name in enumerate(prob["names"]):
            rows.append({"output": out, "parameter": name, "method": analysis,
                         **{c: float(np.asarray(si[k])[j]) for c, k in cols.items()}})
    return pd.DataFrame(rows)


def format_sensitivity(df: pd.DataFrame) -> str:
    """Sensitivity indices as plain text."""
    if df.empty:
        return "(no indices)"
    method = str(df["method"].iloc[0])
    what = {"sobol": "Sobol indices (SALib, Saltelli sample): S1 first order, ST total order, +- 95% conf",
            "morris": "Morris elementary effects (SALib): mu* (mean |effect|), sigma, +- 95% conf of mu*",
            "delta": "Borgonovo delta and S1 (SALib delta on the LHS sample), +- 95% conf"}[method]
    cols = [c for c in df.columns if c not in ("output", "parameter", "method")]
    w = max(9, *(len(p) for p in df["parameter"]))
    lines = [what]
    for out, g in df.groupby("output", sort=False):
        lines.append(f"\n{out}")
        lines.append(f"  {'parameter':<{w}}  " + "  ".join(f"{c:>12}" for c in cols))
        for r in g.itertuples():
            lines.append(f"  {r.parameter:<{w}}  " + "  ".join(f"{getattr(r, c):>12.4g}" for c in cols))
    return "\n".join(lines)


def write_outputs(out: Path, outputs: list[str] | None, seed: int, do_sensitivity: bool) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """Write samples.csv (and sensitivity.csv); return both tables."""
    m = store.load_manifest(out)
    assert m is not None
    samples_df = collect(out, m)
    sio.write_csv(samples_df, Path(out) / "samples.csv")
    if not do_sensitivity:
        return samples_df, None
    sens = sensitivity(m, samples_df, list(outputs or DEFAULT_OUTPUTS), seed)
    sio.write_csv(sens, Path(out) / "sensitivity.csv")
    return samples_df, sens


def check_outputs(text: str | None) -> list[str]:
    """Validate --outputs against the indicators of analysis.compare."""
    if not text:
        return list(DEFAULT_OUTPUTS)
    outs = [o.strip() for o in text.split(",") if o.strip()]
    for o in outs:
        if o not in compare.BY_NAME:
            raise store.BatchError(f"--outputs: {params.unknown_name_message(o, compare.BY_NAME, 'output')}")
    return outs


def print_samples(df: pd.DataFrame, names: list[str], outputs: list[str], limit: int = 12) -> None:
    """A short view of the design points and outputs."""
    cols = ["sample", *names, "n_replicates", *outputs]
    def fmt(v: float) -> str:
        return f"{v:,.0f}" if abs(v) >= 1e5 else f"{v:.6g}"

    print(df[cols].head(limit).to_string(index=False, float_format=fmt), file=sys.stdout)
    if len(df) > limit:
        print(f"... {len(df) - limit} more rows in samples.csv")
