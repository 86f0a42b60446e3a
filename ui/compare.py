"""The Compare page: two or more scenarios x replicates, run by the batch runner in worker processes.

Run starts a ``ui.jobs.CompareJob`` (a child process running ``runs.batch.run_plan``);
a thread of this session polls its progress twice a second, so the page stays live; Cancel
terminates the batch. When it finishes, the page reads the batch with
``analysis.compare.load`` and shows the headline statement (``headline``), bands of the
mean over replicates and the paired differences to the baseline, with downloads of the
comparison CSV and the HTML report (``analysis.report.build``).
"""

from __future__ import annotations

import math
import threading
import time
from typing import Any

import pandas as pd
import solara

from analysis import compare as cmp
from runs.scenario import ScenarioError
from ui import charts, state
from ui.files import csv_bytes
from ui.i18n import indicator_label, text
from ui.jobs import CompareJob, ServerBusy
from ui.session import SCALES, scenario_names
from ui.widgets import Heading

t = state.t

job_ref: solara.Reactive[CompareJob | None] = solara.reactive(None)
progress = solara.reactive(0)
status = solara.reactive("")  # "" | running | done | cancelled | error: ...
result: solara.Reactive[Any] = solara.reactive(None)


def _cancel_on_close() -> Any:
    """Kernel start hook: the cleanup it returns cancels a running batch when the session closes."""

    def cleanup() -> None:
        try:
            job = job_ref.value
        except Exception:  # no kernel context left: nothing of this session to stop
            return
        if job is not None and job.running():
            job.cancel()

    return cleanup


solara.lab.on_kernel_start(_cancel_on_close)


def headline(c: Any, lang: str = "en") -> str:
    """The plain-language statement of the comparison: the report's (analysis.headline) in English.

    The report's statement is English only; in Bahasa Indonesia the page gives the same
    paired differences in a sentence of its own (``fallback_headline``).
    """
    if lang == "en":
        try:
            from analysis.headline import headline as report_headline

            out = report_headline(c)
            return " ".join(out) if isinstance(out, (list, tuple)) else str(out)
        except Exception:  # a comparison the report's statement cannot read: the page's own sentence
            pass
    return fallback_headline(c, lang)


def fallback_headline(c: Any, lang: str = "en") -> str:
    """'Compared with B, S changes the cost by X (95% interval ...), the poverty rate by Y pp (...)'."""
    tab = c.table
    parts = []
    for name in c.scenarios:
        if name == c.baseline:
            continue
        bits = []
        for ind_name in ("cost_rp_cum", "poverty_rate_pct", "graduations_cum"):
            row = tab[(tab["indicator"] == ind_name) & (tab["scenario"] == name)]
            if row.empty or ind_name not in cmp.BY_NAME:
                continue
            r = row.iloc[0]
            ind = cmp.BY_NAME[ind_name]
            if not math.isfinite(r["diff_mean"]):
                continue
            unit = " pp" if ind_name == "poverty_rate_pct" else ""
            iv = (" (" + text("headline.interval", lang, lo=ind.diff(r["diff_ci_low"]) + unit,
                              hi=ind.diff(r["diff_ci_high"]) + unit) + ")"
                  if math.isfinite(r["diff_ci_low"]) else "")
            bits.append(f"{text('headline.' + ind_name, lang)} {ind.diff(r['diff_mean'])}{unit}{iv}")
        if bits:
            parts.append(text("headline", lang, base=c.baseline, name=name, bits="; ".join(bits)))
    return " ".join(parts)


def diff_table(c: Any, lang: str = "en") -> pd.DataFrame:
    """Per indicator and scenario: mean [interval] and paired difference [interval], formatted."""
    rows = []
    for r in c.table.itertuples():
        ind = cmp.BY_NAME.get(r.indicator)
        f = ind.fmt if ind else (lambda v: f"{v:.3g}")
        g = ind.diff if ind else f

        def cell(fn: Any, m: float, lo: float, hi: float) -> str:
            if not math.isfinite(m):
                return "-"
            return fn(m) + (f" [{fn(lo)}, {fn(hi)}]" if math.isfinite(lo) else "")

        rows.append({
            "indicator": indicator_label(r.indicator, lang), "scenario": r.scenario, "n": r.n,
            "mean [95%]": cell(f, r.mean, r.ci_low, r.ci_high),
            "difference [95%]": "-" if r.scenario == c.baseline else cell(g, r.diff_mean, r.diff_ci_low, r.diff_ci_high),
        })
    return pd.DataFrame(rows)


def start(names: list[str], replicates: int, months: int, scale: float, seed: int) -> None:
    """Start a comparison batch for this session (one at a time)."""
    old = job_ref.value
    if old is not None and old.running():
        return
    if len(names) < 2:
        status.set("error: " + t("compare.need_two"))
        return
    try:
        scs = [state.scenario_by_ref(n) for n in names]
    except ScenarioError as e:
        status.set(f"error: {e}")
        return
    if old is not None:
        old.cleanup()
    job = CompareJob(scs, replicates=replicates, months=months, scale=scale, seed=seed)
    try:
        job.start()
    except ServerBusy as e:
        status.set("error: " + t("compare.busy", n=e.limit))
        return
    result.set(None)
    progress.set(0)
    job_ref.set(job)
    status.set("running")


def cancel() -> None:
    """Stop the running batch."""
    job = job_ref.value
    if job is not None:
        job.cancel()
    status.set("cancelled")


def poll(job: CompareJob, stop: threading.Event) -> None:
    """Follow ``job`` until it ends; then read its results (runs in a thread of the session)."""
    while not stop.is_set() and job.running():
        progress.set(job.done_runs())
        time.sleep(0.5)
    if stop.is_set() or job.cancelled or job_ref.value is not job:
        return
    progress.set(job.done_runs())
    err = job.error()
    if err:
        status.set(f"error: {err}")
        return
    try:
        result.set(job.comparison())
    except Exception as e:  # a batch folder that cannot be read back: say so in the page
        status.set(f"error: {e}")
        return
    status.set("done")


@solara.component
def Results(c: Any) -> None:
    """Headline, bands and paired differences of a finished comparison."""
    from analysis import report

    lang = state.lang.value
    column, set_column = solara.use_state("poverty_rate_pct")
    solara.Success(headline(c, lang), classes=["caseload-headline"])
    cols = [col for col in c.regency.columns if col not in ("run_id", "scenario", "replicate", "seed", "date", "step",
                                                             "profile", "scale", "sample")
            and pd.api.types.is_numeric_dtype(c.regency[col])]
    col = column if column in cols else cols[0]
    by_label = {indicator_label(x, lang): x for x in cols}
    solara.Select(t("indicator"), value=indicator_label(col, lang), values=list(by_label),
                  on_value=lambda v: set_column(by_label.get(v, col)))
    traj = solara.use_memo(lambda: report.trajectories(c.regency, col), [c, col])
    with solara.Div(classes=["caseload-bands"]):
        solara.FigureEcharts(option=charts.band_chart(traj, col, c.scenarios, lang), attributes={"style": "height: 360px;"})
    Heading(f"{t('compare.diffs', base=c.baseline)}", 3)
    solara.DataFrame(diff_table(c, lang), items_per_page=50)
    with solara.Row():
        solara.FileDownload(lambda: csv_bytes(c.table), "comparison.csv", label=t("dl.compare_csv"))
        solara.FileDownload(lambda: report.build(c).encode("utf-8"), "report.html", label=t("dl.report"),
                            mime_type="text/html")


@solara.component
def Compare() -> None:
    """The Compare page."""
    state.lang.use_value()
    names_all = scenario_names() + [n for n in state.uploaded.value if n not in scenario_names()]
    chosen, set_chosen = solara.use_state(["baseline", "cap-150"])
    reps, set_reps = solara.use_state(3)
    months, set_months = solara.use_state(12)
    scale, set_scale = solara.use_state(0.1)
    job = job_ref.value
    st = status.value
    solara.use_thread(lambda stop: poll(job, stop) if job is not None else None, dependencies=[job],
                      intrusive_cancel=False)
    Heading(f"{t('compare.heading')}", 2)
    with solara.Row(style={"flex-wrap": "wrap", "align-items": "center"}):
        solara.SelectMultiple(t("compare.scenarios"), values=[n for n in chosen if n in names_all], all_values=names_all,
                              on_value=set_chosen, style={"min-width": "320px"}, classes=["caseload-compare-scenarios"])
        solara.InputInt(t("compare.replicates"), value=reps, on_value=lambda v: set_reps(min(max(1, int(v)), 100)))
        solara.InputInt(t("months"), value=months, on_value=lambda v: set_months(min(max(1, int(v)), 600)))
        solara.Select(t("scale"), value=scale, values=list(SCALES), on_value=lambda v: set_scale(float(v)),
                      style={"min-width": "300px"})
    running = st == "running" and job is not None and job.running()
    with solara.Row():
        solara.Button(t("compare.run"), icon_name="mdi-play", disabled=running, classes=["caseload-compare-run"],
                      on_click=lambda: start(list(chosen), reps, months, scale, 20210101))
        solara.Button(t("compare.cancel"), icon_name="mdi-stop", disabled=not running, classes=["caseload-compare-cancel"],
                      on_click=cancel)
    if job is not None and st in ("running", "done"):
        total = max(job.total, 1)
        solara.ProgressLinear(100 * progress.value / total if st == "running" else 100)
        solara.Text(t("compare.progress", done=progress.value, total=job.total), classes=["caseload-compare-progress"])
    if st == "cancelled":
        solara.Warning(t("compare.cancelled"), classes=["caseload-message"])
    elif st.startswith("error"):
        solara.Error(st, classes=["caseload-message"])
    if result.value is not None and st == "done":
        Results(result.value)
