"""Indicators planners ask for, recorded after every month, and WHO WISN staffing need.

``record(model)`` appends one regency row and one row per kecamatan. Every row carries its
``date`` (the first day of the month after the simulated month: the state at that date,
so the row dated 2022-04-01 is the state after March 2022, BPS's survey month) and its step.
Every count is at regency scale, whatever the run's ``scale`` (docs/ODD.md 2.5): facilitators,
posts, vacancies, hires, quits and cost are never scaled; counts of families and family
events (families, graduations, entries, exits, unassigned families) and people counts are
simulated counts x ``family_weight`` (= 1 / scale), so at a scale other than 1 they are
estimates; the simulated family count is the one column ``families_simulated``.
Cost is accounted by its own phase (sim.processes.cost, by line and funder); ``record``
only copies ``model.cost_lines`` into the row.

Family-weighted indicators take the family's view: the share not visited for 3+ and 6+
months, the burnout of the facilitator a family has (= the caseload-weighted mean of
facilitator burnout), P2K2 coverage (sessions held / needed of the family's facilitator).
Equity across kecamatan (``EQUITY``): the weighted p90 - p10 spread of a kecamatan
indicator and its mean over the worst-off 10% of families (people, for poverty).

Poverty is reported after transfers (``poor_people``, ``poverty_rate_pct``: consumption
including PKH and Sembako, as BPS measures it) and before them (``..._pre_transfer``: the
same people without the transfer). The poor outside the programme get no transfer and count
the same both ways (``outside_poor_people``). Entrants and leavers poor before transfers,
and quota seats left empty because the outside could not supply an entrant, are counted
each month (sim.population).

WISN (WHO 2010 user's manual, docs/REFERENCES.md), per kecamatan, per year:
    AWT  = hours_per_month * 12 * (1 - leave_share)                    available working time
    activities with standard times taken from the model's own time budget:
        admin           admin_min * (1 - saving * mean S_tech) / 60 h per family-month
        P2K2 sessions   group_session_h per group-month, ceil(families / group size) groups
        home visits     visit_h + travel minutes / 60 h per visit, visits_target per family-month
    baseline staff  = sum_i workload_i * standard_time_i / AWT
    required staff  = baseline * CAF,  CAF = 1 / (1 - support_share)  (supervision meetings,
                      training, coordination done by every facilitator)
    WISN ratio      = facilitators present / required   (< 1: shortage)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from sim import params
from sim.processes import cost

if TYPE_CHECKING:
    from sim.core import Model

# burnout above which a facilitator counts as burned out; compared with the pooled MBI burnout
# prevalence of 20% (95% CI 13-27%) among social-services workers (J Soc Serv Res 2024,
# doi 10.1080/01488376.2024.2371847)
BURNED_OUT = 0.5

#: regency indicators also exposed through Mesa's DataCollector
REPORTERS: tuple[str, ...] = (
    "families", "poverty_rate_pct", "poverty_rate_pre_transfer_pct", "poor_people", "caseload_mean", "caseload_p95",
    "share_fac_over_cap", "visits_per_family", "share_unvisited_3m", "share_unvisited_6m", "burnout_mean",
    "burnout_family_mean", "p2k2_coverage", "share_burned_out", "facilitators", "vacancies", "quits",
    "attrition_pct_year", "graduations", "compliance_rate", "behaviour_mean", "cost_rp_month",
    "cost_apbn_rp_month", "cost_apbd_rp_month", "wisn_ratio",
)


def wisn(model: Model, fam_by_d: np.ndarray, staff_by_d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Required facilitators and WISN ratio per district."""
    p = model.p
    ps = model.posts
    awt = p["hours_per_month"] * 12.0 * (1.0 - p["leave_share"])
    s_tech = float(ps.s_tech[ps.filled].mean()) if ps.filled.any() else 0.0
    t_admin = p["admin_min_per_family_month"] / 60.0 * (1.0 - p["digital_skill_admin_saving"] * s_tech) * model.surface.admin_factor
    t_visit = p["visit_h"] + model.travel_min * p["travel_scale"] / 60.0
    hours = 12.0 * (
        fam_by_d * t_admin
        + np.ceil(fam_by_d / p["group_size_families"]) * p["group_session_h"]
        + fam_by_d * p["visits_target_per_family_month"] * t_visit
    )
    required = hours / awt / (1.0 - p["support_share"])
    ratio = np.where(required > 0, staff_by_d / np.maximum(required, 1e-9), np.nan)
    return required, ratio


def weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The ``q`` quantile of ``values`` when value i stands for ``weights[i]`` units (families, people).

    The lower quantile of the step distribution: the smallest value whose cumulative weight
    reaches q of the total. Entries with zero weight or a non-finite value are left out.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if v.size == 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1], side="left"))
    return float(v[order][min(k, v.size - 1)])


def worst_share_mean(values: np.ndarray, weights: np.ndarray, share: float = 0.1, high_is_bad: bool = True) -> float:
    """Mean of ``values`` over the worst-off ``share`` of the weight (families, people).

    Kecamatan are ranked worst first; the worst ones are taken whole and the last one in
    part, until ``share`` of all the weight is taken (so 10% of families, whichever
    kecamatan they live in). Zero-weight or non-finite entries are left out.
    """
    v = np.asarray(values, dtype=np.float64)
    w = np.asarray(weights, dtype=np.float64)
    keep = np.isfinite(v) & (w > 0)
    v, w = v[keep], w[keep]
    if v.size == 0:
        return float("nan")
    order = np.argsort(-v if high_is_bad else v, kind="stable")
    v, w = v[order], w[order]
    take = share * float(w.sum())
    before = np.cumsum(w) - w
    part = np.clip(take - before, 0.0, w)
    return float((v * part).sum() / take)


#: kecamatan indicators whose spread and worst decile across kecamatan are recorded:
#: name -> (higher is worse, weight: "families" or "population")
EQUITY: dict[str, tuple[bool, str]] = {
    "share_unvisited_3m": (True, "families"),
    "visits_per_family": (False, "families"),
    "burnout_family_mean": (True, "families"),
    "poverty_rate_pct": (True, "population"),
}


def family_weighted(model: Model) -> dict[str, np.ndarray]:
    """Per kecamatan, the sums behind the family-weighted indicators (one pass over families).

    ``burnout_fam``: sum over families with a facilitator of her burnout; ``assigned``:
    those families; ``p2k2``: sum over all enrolled families of the share of the P2K2
    sessions their facilitator held (0 without one); ``unvisited_6m``: families not
    visited for 6 months or more (contact = a home visit).
    """
    fam = model.families
    ps = model.posts
    nd = model.n_districts
    act = fam.active
    assigned = act & (fam.fac >= 0)
    fac = fam.fac[assigned]
    dist = fam.district[assigned]
    filled = ps.filled[fac]
    return {
        "assigned": np.bincount(dist, weights=filled, minlength=nd),
        "burnout_fam": np.bincount(dist, weights=ps.burnout[fac] * filled, minlength=nd),
        "p2k2": np.bincount(dist, weights=ps.group_coverage[fac] * filled, minlength=nd),
        "unvisited_6m": np.bincount(fam.district[act & (fam.months_since_visit >= 6)], minlength=nd).astype(np.float64),
    }


def equity(district: dict[str, np.ndarray], fam_by_d: np.ndarray, pop_by_d: np.ndarray) -> dict[str, float]:
    """Spread (family- or population-weighted p90 - p10) and worst decile across kecamatan."""
    out: dict[str, float] = {}
    for name, (high_bad, weight) in EQUITY.items():
        v = district[name]
        w = fam_by_d if weight == "families" else pop_by_d
        out[f"{name}_kec_spread"] = weighted_quantile(v, w, 0.9) - weighted_quantile(v, w, 0.1)
        out[f"{name}_kec_worst10"] = worst_share_mean(v, w, 0.1, high_bad)
    return out


def _share(num: float, den: float) -> float:
    return float(num / den) if den > 0 else 0.0


def record(model: Model) -> None:
    """Append this month's regency row and district rows to the model's tables."""
    p = model.p
    fam = model.families
    ps = model.posts
    nd = model.n_districts
    s = model.scale
    w = model.family_weight
    model.refresh_caseload()
    hh = p["household_size"]
    act = fam.active
    f = ps.filled

    # family counts by district in one pass: a 7-bit code per row, one bincount
    u8 = np.uint8
    bits = act.view(u8) | (fam.poor.view(u8) << u8(1)) | ((fam.months_since_visit >= 3).view(u8) << u8(2))
    bits |= (fam.pkh.view(u8) << u8(3)) | (fam.compliant.view(u8) << u8(4)) | ((fam.fac >= 0).view(u8) << u8(5))
    bits |= fam.poor_pre.view(u8) << u8(6)
    counts = np.bincount(fam.district * 128 + bits, minlength=nd * 128)[: nd * 128].reshape(nd, 128)
    codes = np.arange(128)

    def count(mask: int) -> np.ndarray:
        return counts[:, (codes & mask) == mask].sum(axis=1)

    fam_by_d = count(1).astype(np.float64)
    kpm_poor_by_d = count(1 | 2) * hh
    poor_by_d = kpm_poor_by_d + model.nonkpm_poor
    kpm_poor_pre_by_d = count(1 | 64) * hh
    poor_pre_by_d = kpm_poor_pre_by_d + model.nonkpm_poor
    pop = float(model.population.sum())
    n_fam = int(fam_by_d.sum())

    # caseload and staffing
    cl = ps.caseload[f]
    n_fac = int(f.sum())
    cap = params.IDEAL_CASELOAD
    staff_by_d = np.bincount(ps.district[f], minlength=nd).astype(np.float64)
    posts_by_d = np.bincount(ps.district[ps.open], minlength=nd)
    vac_by_d = np.bincount(ps.district[ps.open & ~f], minlength=nd)
    over_by_d = np.bincount(ps.district[f & (ps.caseload > cap)], minlength=nd)
    burn_by_d = np.bincount(ps.district[f], weights=ps.burnout[f], minlength=nd)
    required, ratio = wisn(model, fam_by_d * w, staff_by_d)  # families at regency scale

    # families' contact and behaviour (stale rows of departed families weigh 0)
    visits_by_d = np.bincount(fam.district, weights=fam.visits * act, minlength=nd)
    unvisited_by_d = count(1 | 4)
    kbar = (fam.k_edu + fam.k_health + fam.k_fin) * act / np.float32(3.0)
    beh_by_d = np.bincount(fam.district, weights=kbar, minlength=nd)
    comp_by_d = count(1 | 8 | 16)
    pkh_by_d = count(1 | 8)
    assigned_by_d = count(1 | 32)

    # admin backlog and withheld PKH payments (sim/processes/timebudget.py)
    backlog_by_d = np.bincount(fam.district, weights=fam.admin_due * act, minlength=nd)
    backlog_h_by_d = np.bincount(ps.district[f], weights=ps.admin_backlog_h[f], minlength=nd)
    held_by_d = np.bincount(fam.district, weights=act & fam.pkh & fam.pay_held, minlength=nd)
    pkh_month_rp = p["pkh_transfer_rp_family_year"] / 12.0

    # cost is accounted by its own phase (sim.processes.cost); step 0 costs nothing
    lines = model.cost_lines
    model.graduations_cum += model.graduations_month
    model.quits_cum += model.quits_month

    fw = family_weighted(model)
    n_assigned = float(fw["assigned"].sum())

    when = model.date_of_step(model.steps)
    row: dict[str, Any] = {
        "date": when,
        "step": model.steps,
        "profile": model.profile_name,
        "scale": s,
        "families": n_fam * w,
        "families_simulated": n_fam,
        "kpm_persons": n_fam * hh * w,
        "population": pop / s,
        "poor_people": float(poor_by_d.sum()) / s,
        "poverty_rate_pct": 100.0 * _share(float(poor_by_d.sum()), pop),
        "kpm_poverty_rate": _share(float(kpm_poor_by_d.sum()) / hh, n_fam),
        "poor_people_pre_transfer": float(poor_pre_by_d.sum()) / s,
        "poverty_rate_pre_transfer_pct": 100.0 * _share(float(poor_pre_by_d.sum()), pop),
        "kpm_poverty_rate_pre_transfer": _share(float(kpm_poor_pre_by_d.sum()) / hh, n_fam),
        "outside_poor_people": float(model.nonkpm_poor.sum()) / s,
        "facilitators": n_fac,
        "posts": int(ps.open.sum()),
        "vacancies": int((ps.open & ~f).sum()),
        "unassigned_families": float(fam_by_d.sum() - assigned_by_d.sum()) * w,
        "caseload_mean": float(cl.mean()) if n_fac else 0.0,
        "caseload_p95": float(np.percentile(cl, 95)) if n_fac else 0.0,
        "caseload_max": int(cl.max()) if n_fac else 0,
        "share_fac_over_cap": _share(int((cl > cap).sum()), n_fac),
        "visits_per_family": _share(float(visits_by_d.sum()), n_fam),
        "share_unvisited_3m": _share(int(unvisited_by_d.sum()), n_fam),
        "share_unvisited_6m": _share(float(fw["unvisited_6m"].sum()), n_fam),
        "burnout_family_mean": float(fw["burnout_fam"].sum() / n_assigned) if n_assigned else float("nan"),
        "p2k2_coverage": _share(float(fw["p2k2"].sum()), n_fam),
        "visit_quality_mean": float(ps.quality[f].mean()) if n_fac else 0.0,
        "load_ratio_mean": float(ps.load_ratio[f].mean()) if n_fac else 0.0,
        "share_time_admin": _share(float(ps.hours_admin[f].sum()), float(ps.hours_avail[f].sum())),
        "share_time_spare": _share(float(ps.hours_spare[f].sum()), float(ps.hours_avail[f].sum())),
        "admin_backlog_months": _share(float(backlog_by_d.sum()), n_fam),
        "admin_backlog_h_per_facilitator": _share(float(backlog_h_by_d.sum()), n_fac),
        "share_payments_held": _share(float(held_by_d.sum()), int(pkh_by_d.sum())),
        "pkh_withheld_rp_month": model.pkh_withheld_month * pkh_month_rp * w,
        "pkh_lost_rp_month": model.pkh_lost_month * pkh_month_rp * w,
        "pkh_arrears_paid_rp_month": model.pkh_arrears_month * pkh_month_rp * w,
        "burnout_mean": float(ps.burnout[f].mean()) if n_fac else 0.0,
        "share_burned_out": _share(int((ps.burnout[f] > BURNED_OUT).sum()), n_fac),
        "motivation_mean": float(ps.motivation[f].mean()) if n_fac else 0.0,
        "skill_technical_mean": float(ps.s_tech[f].mean()) if n_fac else 0.0,
        "skill_psychosocial_mean": float(ps.s_psy[f].mean()) if n_fac else 0.0,
        "share_trained_12m": _share(int((f & (ps.months_since_training < 12)).sum()), n_fac),
        "share_untrained_since_start": _share(int((f & ~ps.trained_since_start).sum()), n_fac),
        "trained": model.trained_month,
        "hires": model.hires_month,
        "quits": model.quits_month,
        "quits_cum": model.quits_cum,
        "attrition_pct_year": 100.0 * _share(12.0 * model.quits_month, n_fac),
        "compliance_rate": _share(int(comp_by_d.sum()), int(pkh_by_d.sum())),
        "behaviour_mean": _share(float(beh_by_d.sum()), n_fam),
        "graduations": model.graduations_month * w,
        "graduations_cum": model.graduations_cum * w,
        "exits": model.exits_month * w,
        "entries": model.entries_month * w,
        "entries_unfilled": model.entries_unfilled_month * w,
        "entries_near_poor": model.entries_near_poor_month * w,
        "entrants_poor_pre_transfer": model.entrants_poor_pre_month * w,
        "leavers_poor_pre_transfer": model.leavers_poor_pre_month * w,
        "cost_rp_month": lines["cost"],
        "cost_rp_cum": model.cost_cum,
        "cost_per_graduation_rp": (model.cost_cum / (model.graduations_cum * w)) if model.graduations_cum else float("nan"),
        **{f"cost_{k}_rp_month": lines[k] for k in (*cost.FUNDER, "apbn", "apbd")},
        **{f"{k}_rp_month": lines[k] for k in cost.TRANSFERS},
        "wisn_required": float(required.sum()),
        "wisn_ratio": _share(n_fac, float(required.sum())),
    }
    model.regency_rows.append(row)
    model.last_regency = row

    with np.errstate(invalid="ignore", divide="ignore"):
        cols = {
            "step": np.full(nd, model.steps),
            "families": fam_by_d * w,
            "population": model.population / s,
            "poor_people": poor_by_d / s,
            "poverty_rate_pct": 100.0 * poor_by_d / model.population,
            "poor_people_pre_transfer": poor_pre_by_d / s,
            "poverty_rate_pre_transfer_pct": 100.0 * poor_pre_by_d / model.population,
            "outside_poor_people": model.nonkpm_poor / s,
            "facilitators": staff_by_d.astype(np.int64),
            "posts": posts_by_d,
            "vacancies": vac_by_d,
            "caseload_mean": np.where(staff_by_d > 0, assigned_by_d * w / np.maximum(staff_by_d, 1), np.nan),
            "share_fac_over_cap": np.where(staff_by_d > 0, over_by_d / np.maximum(staff_by_d, 1), 0.0),
            "unassigned_families": (fam_by_d - assigned_by_d) * w,
            "visits_per_family": np.where(fam_by_d > 0, visits_by_d / np.maximum(fam_by_d, 1), 0.0),
            "share_unvisited_3m": np.where(fam_by_d > 0, unvisited_by_d / np.maximum(fam_by_d, 1), 0.0),
            "burnout_mean": np.where(staff_by_d > 0, burn_by_d / np.maximum(staff_by_d, 1), np.nan),
            "admin_backlog_months": np.where(fam_by_d > 0, backlog_by_d / np.maximum(fam_by_d, 1), 0.0),
            "admin_backlog_h_per_facilitator": np.where(staff_by_d > 0, backlog_h_by_d / np.maximum(staff_by_d, 1), np.nan),
            "share_payments_held": np.where(pkh_by_d > 0, held_by_d / np.maximum(pkh_by_d, 1), 0.0),
            "compliance_rate": np.where(pkh_by_d > 0, comp_by_d / np.maximum(pkh_by_d, 1), np.nan),
            "behaviour_mean": np.where(fam_by_d > 0, beh_by_d / np.maximum(fam_by_d, 1), np.nan),
            "graduations": (np.bincount(model.graduated_districts, minlength=nd) if model.steps else np.zeros(nd)) * w,
            "wisn_required": required,
            "wisn_ratio": ratio,
            "wisn_shortage": required - staff_by_d,
        }
        cols["share_unvisited_6m"] = np.where(fam_by_d > 0, fw["unvisited_6m"] / np.maximum(fam_by_d, 1), 0.0)
        cols["burnout_family_mean"] = np.where(fw["assigned"] > 0, fw["burnout_fam"] / np.maximum(fw["assigned"], 1), np.nan)
        cols["p2k2_coverage"] = np.where(fam_by_d > 0, fw["p2k2"] / np.maximum(fam_by_d, 1), np.nan)
    row.update(equity(cols, fam_by_d, model.population))
    model.district_frames.append(cols)


def district_frame(model: Model) -> pd.DataFrame:
    """The district rows recorded so far as one DataFrame (built once, not every month)."""
    frames = model.district_frames
    nd = model.n_districts
    steps = len(frames)
    data: dict[str, Any] = {
        "date": np.repeat([model.date_of_step(int(f["step"][0])) for f in frames], nd),
        "code": np.tile(np.asarray(model.district_codes, dtype=object), steps),
        "district": np.tile(np.asarray(model.district_names, dtype=object), steps),
    }
    for key in frames[0]:
        data[key] = np.concatenate([f[key] for f in frames])
    df = pd.DataFrame(data)
    return df[["date", "step", "code", "district", *[k for k in frames[0] if k != "step"]]]
