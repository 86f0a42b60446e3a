"""``caseload calibrate``: fit, check and publish a calibration (the steps in order).

1. load the target file (calibration.targets) and the prior (``--params NAME=LOW:HIGH``);
2. open or resume the output folder (calibration.fit.open_folder);
3. fit: ``abc-smc`` (pyabc), ``rejection`` or ``optimize`` (a point estimate only);
4. write posterior.parquet (weighted draws with the targets, data and code hashes),
   diagnostics.csv and posterior_summary.csv;
5. posterior predictive checks and projection (calibration.predictive): ``--ppc`` draws
   simulated from the fit's start to ``--project-to``: ppc_stats.parquet,
   trajectories.parquet and checks.csv (every target, fitted and held out);
6. the scenario ``calibrated.toml`` in the folder (and, with ``--scenario NAME``,
   scenarios/NAME.toml with calibration/posteriors/NAME.parquet) that others extend;
7. report.html (calibration.report).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from calibration import fit, targets
from calibration.engine import Bar, CalibrationError, Mapper, Prior, Simulator, make_prior
from calibration.predictive import check_table, months_to, predictive
from calibration.targets import TargetSet

ROOT = Path(__file__).resolve().parent.parent
POSTERIOR_DIR = Path(__file__).resolve().parent / "posteriors"
SCENARIO_DIR = ROOT / "scenarios"
DEFAULT_SEED = 20170301

# The scenario a calibration publishes extends the profile's baseline and starts from the
# profile's own observed start (2021), like every other scenario, so that policy scenarios
# extending it switch their levers on at the same date; the fit's own runs from 2017 are in
# the fit report. Projection: to December 2030 with the PKH quota of the profile (official:
# held at the 2023 count, 46,812 families, up to 2030; sim/data/profiles/official.toml).
BASE_SCENARIO = {"official": "baseline-official", "paper-2023": "baseline"}
PROJECT_TO = "2030-12"


@dataclass
class Options:
    """Everything ``caseload calibrate`` takes."""

    targets: str
    params: list[str]
    out: Path
    method: str = "abc-smc"
    budget: int = 1000
    population: int = 100
    generations: int = 8
    jobs: int = 1
    executor: str = "local"
    scheduler: str | None = None
    seed: int = DEFAULT_SEED
    scale: float | None = None
    ppc: int = 40
    project_to: str = PROJECT_TO
    scenario: str | None = None
    report: bool = True
    bar: bool | None = None


def check(o: Options) -> tuple[TargetSet, Prior]:
    """Validate the options; raise TargetError or CalibrationError naming the bad one."""
    import re

    if o.method not in fit.METHODS:
        raise CalibrationError(f"--method: expected one of {', '.join(fit.METHODS)}, got {o.method!r}")
    for name, v, lo in (("--budget", o.budget, 1), ("--population", o.population, 2), ("--generations", o.generations, 1),
                        ("--jobs", o.jobs, 1), ("--ppc", o.ppc, 0)):
        if v < lo:
            raise CalibrationError(f"{name}: expected at least {lo}, got {v}")
    if o.seed < 0:
        raise CalibrationError(f"--seed: expected a non-negative integer, got {o.seed}")
    if o.scale is not None and not 0 < o.scale <= 2:
        raise CalibrationError(f"--scale: expected a number in (0, 2], got {o.scale}")
    if not re.fullmatch(r"(19|20|21)\d\d-(0[1-9]|1[0-2])", o.project_to):
        raise CalibrationError(f"--project-to: expected YYYY-MM, got {o.project_to!r}")
    if o.scenario is not None and not re.fullmatch(r"[a-z0-9][a-z0-9_-]*", o.scenario):
        raise CalibrationError(f"--scenario: expected a file-name-safe name (a-z, 0-9, - and _), got {o.scenario!r}")
    ts = targets.load(o.targets)
    if o.scale is not None:
        ts.setup = replace(ts.setup, scale=float(o.scale))
    prior = make_prior(o.params)
    fixed = dict(ts.setup.parameters)
    clash = sorted(set(fixed) & set(prior.names))
    if clash:
        raise CalibrationError(f"--params {', '.join(clash)}: fixed in the target file's [setup.parameters]")
    from sim.profiles import load_profile

    try:
        load_profile(ts.setup.profile, scale=ts.setup.scale, start_year=int(ts.setup.start[:4]))
    except ValueError as e:
        raise CalibrationError(f"{ts.path}: setup: {e}") from None
    return ts, prior


def run(o: Options, argv: list[str] | None = None, stream: TextIO | None = None) -> dict[str, Any]:
    """Run (or resume) a calibration into ``o.out``; return what was written."""
    stream = stream or sys.stderr
    ts, prior = check(o)
    out = Path(o.out)
    ident = fit.identity(ts, prior, o.method, o.population, o.seed, ts.setup.scale)
    fit.open_folder(out, ident, argv)
    mapper = Mapper(o.executor, o.jobs, o.scheduler)
    sim = Simulator(ts.setup, ts.wanted(), prior, o.seed)
    prov = fit.provenance(ts)
    import time

    t0 = time.perf_counter()
    try:
        if o.method == "optimize":
            res = fit.run_optimize(ts, prior, sim, out, o.budget, o.seed, mapper, o.bar, stream)
            return {"optimize": res, "out": out}
        if o.method == "abc-smc":
            fit.run_abc_smc(ts, prior, sim, out, o.population, o.budget, o.generations, o.seed, mapper, o.bar, stream)
            post, diag = fit.abc_posterior(out, prior)
        else:
            post, diag = fit.run_rejection(ts, prior, sim, out, o.population, o.budget, o.seed, mapper, o.bar, stream)
        fit_s = time.perf_counter() - t0
        summary = fit.summarize(post, prior)
        meta = {**prov, "identity": ident, "method": o.method, "setup": ts.setup.__dict__ | {"parameters": dict(ts.setup.parameters)},
                "simulations": total_sims(diag), "generations": len(diag)}
        fit.write_parquet(out / "posterior.parquet", post, meta)
        diag.to_csv(out / "diagnostics.csv", index=False)
        summary.to_csv(out / "posterior_summary.csv", index=False)
        checks = None
        if o.ppc:
            b = Bar(o.ppc, "predictive checks", stream, o.bar)
            try:
                stats, traj = predictive(ts, prior, post, sim, o.ppc, o.seed, mapper, o.project_to, done=b.update)
            finally:
                b.close()
            fit.write_parquet(out / "ppc_stats.parquet", stats)
            fit.write_parquet(out / "trajectories.parquet", traj)
            checks = check_table(ts, stats, o.seed)
            checks.to_csv(out / "checks.csv", index=False)
        scen = write_scenario(ts, out / "calibrated.toml", out / "posterior.parquet", o, prov)
        published = None
        if o.scenario:
            POSTERIOR_DIR.mkdir(exist_ok=True)
            dest = POSTERIOR_DIR / f"{o.scenario}.parquet"
            fit._plain_atomic(dest, (out / "posterior.parquet").read_bytes())
            published = write_scenario(ts, SCENARIO_DIR / f"{o.scenario}.toml", dest, o, prov)
        if o.report:
            from calibration import report

            report.write(out, ts, prior)
        if o.scenario:  # the evidence next to the published posterior
            for src, suffix in (("report.html", "report.html"), ("checks.csv", "checks.csv"),
                                ("diagnostics.csv", "diagnostics.csv"), ("posterior_summary.csv", "summary.csv")):
                if (out / src).exists():
                    fit._plain_atomic(POSTERIOR_DIR / f"{o.scenario}.{suffix}", (out / src).read_bytes())
        return {"out": out, "posterior": post, "diagnostics": diag, "summary": summary, "checks": checks,
                "scenario": scen, "published": published,
                "timing_s": {"fit": fit_s, "after_fit": time.perf_counter() - t0 - fit_s}}
    finally:
        mapper.close()


def total_sims(diag: pd.DataFrame) -> int:
    """Every simulation of the fit (with pyabc's calibration sample when there is one)."""
    return int(diag.attrs.get("total_simulations", int(diag["simulations"].sum())))


def write_scenario(ts: TargetSet, path: Path, posterior: Path, o: Options, prov: dict[str, Any]) -> Path:
    """A scenario that extends the profile's baseline and draws its parameters from ``posterior``."""
    import os

    base = BASE_SCENARIO.get(ts.setup.profile)
    rel = os.path.relpath(posterior.resolve(), path.parent.resolve())
    start = "2021-01"
    months = months_to(start, o.project_to) + 1
    name = path.stem
    fixed = "".join(f"{k} = {v!r}\n" for k, v in ts.setup.parameters)
    text = f'''# Written by `caseload calibrate` (calibration/calibrate.py); re-run the calibration to update it.
# Replicate i of a batch of this scenario, or of any scenario extending it, runs with the
# parameters of posterior draw i (runs/scenario.py posterior_draw): the same draw in every
# scenario, so comparisons stay paired.
name = "{name}"
{f'extends = "{base}"' if base else ""}
description = """{ts.setup.profile} profile with the parameters calibrated to the '{ts.name}' targets \\
({ts.path.name}, {o.method}); each replicate draws its parameters from the posterior. Runs from \\
{start} to {o.project_to}: after the last data year the PKH quota of the profile is held constant \\
up to 2030 (official: the 2023 count, 46,812 families)."""
description_id = """Profil {ts.setup.profile} dengan parameter yang dikalibrasi ke target '{ts.name}' \\
({ts.path.name}, {o.method}); setiap replikasi mengambil parameternya dari distribusi posterior. \\
Berjalan dari {start} sampai {o.project_to}: setelah tahun data terakhir kuota PKH mengikuti profil \\
(official: tetap pada jumlah 2023 sampai 2030)."""
profile = "{ts.setup.profile}"
start = "{start}"
months = {months}
posterior = "{rel}"

[parameters]
{fixed}
[sources]
posterior = "caseload calibrate {ts.path.name} --method {o.method} --budget {o.budget} --population {o.population} --seed {o.seed} at scale {ts.setup.scale:g}: targets sha256 {ts.sha256[:16]}, data {prov['data_hash']}, code {prov['code_hash']} ({prov['code_version']})"
quota = "PKH quota by year from the profile; after the last count it is held constant (sim/data/profiles/{ts.setup.profile}.toml quota.hold_until): a stated assumption, no later Kabupaten Bekasi count is public"
'''
    fit._plain_atomic(path, text.encode())
    from runs import scenario

    scenario.load(path)  # the written scenario must load
    return path


def summary_text(res: dict[str, Any]) -> str:
    """What a calibration found, as plain text."""
    if "optimize" in res:
        r = res["optimize"]
        vals = ", ".join(f"{k} = {v:.4g}" for k, v in r["point_estimate"].items())
        return (f"point estimate (optimize; a quick look, NOT the calibration result: no uncertainty): {vals}; "
                f"mean distance {r['mean_distance']:.3g} over {r['simulations']} simulations")
    lines = ["posterior (weighted draws; model estimates): median [90% interval]"]
    for r in res["summary"].itertuples():
        lines.append(f"  {r.parameter:<34} {r.median:>12.4g}  [{r.q05:.4g}, {r.q95:.4g}]  prior [{r.prior_low:g}, {r.prior_high:g}]")
    d = res["diagnostics"]
    last = d.iloc[-1]
    lines.append(f"{len(d)} generation(s), {total_sims(d)} simulations; last: epsilon {last['epsilon']:.3g}, "
                 f"acceptance {last['acceptance_rate']:.2f}, ESS {last['ess']:.0f}")
    c = res.get("checks")
    if isinstance(c, pd.DataFrame) and not c.empty:
        fitted = c[~c["holdout"]]
        lines.append(f"posterior predictive: {int(fitted['inside_90'].sum())}/{len(fitted)} fitted targets inside the "
                     "90% predictive band (model + observation error + discrepancy)")
        for r in c[c["holdout"]].itertuples():
            lines.append(f"  out of sample {r.target}: observed {r.observed:.4g}, model median {r.median:.4g} "
                         f"[{r.q05:.4g}, {r.q95:.4g}], predictive 90% [{r.pred_q05:.4g}, {r.pred_q95:.4g}], "
                         f"error {r.error:+.3g} ({r.z:+.2f} sigma)")
    lines.append(f"wrote {res['out']}/posterior.parquet, diagnostics.csv, checks.csv, report.html, calibrated.toml"
                 + (f"; published {res['published']}" if res.get("published") else ""))
    return "\n".join(lines)
