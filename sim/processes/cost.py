"""Phase 6, cost: what the month cost, line by line, and who pays each line (APBN or APBD).

Runs after the workforce phase and the levers that act after it, before ``record`` (which
only records what this phase leaves in ``model.cost_lines``). Amounts are in Rp at regency
scale: facilitators are never scaled, and families (transfers) count ``family_weight``
each (docs/ODD.md 2.5).

Lines (Rp this month):

    honoraria         facilitators in national posts x incentive_rp_month       APBN
    topup             sum over filled posts of (pay - incentive_rp_month):
                      the regional-incentive premium above the national pay     APBD
    operational       facilitators in national posts x operational_rp_month    APBN
    supervision_apbn  ceil(facilitators / supervision_ratio [parameter]) x
                      supervisor_cost_rp_month: the programme's own supervisors APBN
    supervision_apbd  supervisors beyond those, when a lever lowers the ratio
                      (ceil(F / lever ratio) - ceil(F / parameter ratio)) x cost APBD
    training          advanced courses (``model.cost_month``, accrued by the
                      workforce phase) and lever courses (``surface.cost_month``,
                      training_platform)                                        APBN
    policy_apbd       recurring lever costs charged to the regency
                      (``surface.extra_cost_month``, e.g. a platform's running
                      cost charged to Kabupaten Bekasi)                         APBD
    local_posts_apbd  honoraria and operational allowance of the posts the regency
                      funds itself (``surface.apbd_posts``: local_redistribution's
                      local hires); ``honoraria``/``operational`` cover the rest APBD
    transfers_pkh     (PKH families in good standing (compliant) whose payment
                      is not withheld + withheld months paid late this month) x
                      pkh_transfer_rp_family_year / 12                          APBN
    transfers_sembako Sembako families x sembako_transfer_rp_family_month       APBN

``cost`` (the ``cost_rp_month`` column) is the facilitation cost, every line but the
transfers: transfers are fixed per family by programme rules and the quota, and are
shown beside it, not in it (cost-effectiveness in analysis.compare uses ``cost``).
Local redistribution moves posts and hires locally at no cost in the model, so it adds
no line.

Who pays (the funder rules; sources by their key in docs/REFERENCES.md):
- PKH facilitators are contract staff of the Ministry of Social Affairs (Kemensos), paid
  from the national budget: the DPR approved Rp1.4 tn for PKH human resources in 2019
  (Detik 2018); the honorarium was equalised nationally at Rp3.1m a month in 2023, with
  Rp500k operational money every four months (RMOL Jateng 2023). Honoraria and
  operational money: APBN.
- PKH supervisors (pekerja sosial supervisor) are recruited by Kemensos with the
  facilitators (877 in the 2017 recruitment, Republika 2017; 408 in 2018, Detik 2018):
  the programme's own supervision ratio (parameter ``supervision_ratio``) is APBN.
- Advanced courses are given by Kemensos's training centres (BBPPKS Bandung for West
  Java; Kemensos 2020b, Nuwobalak 2019): APBN.
- PKH and Sembako/BPNT transfers are central-government social assistance (PKH budget
  Rp28.7 tn in 2021, Rancak Media 2021; Sembako Rp200k a month, Republika 2020): APBN.
- Regional top-ups and extra supervision follow Levianto & Warsidi (2025),
  recommendations 4 (a differential incentive for remote or vulnerable areas) and 5
  (local government in redistribution, needs planning, supervision and monitoring).
  The paper names no funder; the model assumes [A] the regency pays them (APBD, via
  Dinas Sosial), as the Kemensos honorarium is national and uniform.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.core import Model

#: cost lines and their funder, in the order of the output columns
FUNDER: dict[str, str] = {
    "honoraria": "APBN",
    "operational": "APBN",
    "supervision_apbn": "APBN",
    "training": "APBN",
    "topup": "APBD",
    "supervision_apbd": "APBD",
    "policy_apbd": "APBD",
    "local_posts_apbd": "APBD",
}
#: transfers to families (APBN), reported beside the facilitation cost, not in it
TRANSFERS: tuple[str, ...] = ("transfers_pkh", "transfers_sembako")
LINES: tuple[str, ...] = (*FUNDER, *TRANSFERS)


def zero_lines() -> dict[str, float]:
    """Every cost line at 0 (the initial state, step 0, costs nothing)."""
    return dict.fromkeys((*LINES, "cost", "apbn", "apbd"), 0.0)


def month_lines(model: Model) -> dict[str, float]:
    """Cost lines of the month (Rp, regency scale) from the state after the workforce phase."""
    p = model.p
    ps = model.posts
    fam = model.families
    f = ps.filled
    n_fac = int(f.sum())
    base_pay = float(p["incentive_rp_month"])
    pay = float(ps.incentive_rp[f].sum())
    sup_cost = float(p["supervisor_cost_rp_month"])
    lever = model.surface
    sup_programme = int(np.ceil(n_fac / p["supervision_ratio"])) if n_fac else 0
    sup_now = int(np.ceil(n_fac / lever.supervision_ratio)) if n_fac else 0
    # a lever may lower the ratio (more supervisors: APBD) or raise it (fewer: the saving is APBN's)
    sup_extra = max(0, sup_now - sup_programme)
    sup_apbn = min(sup_now, sup_programme)
    act = fam.active
    w = model.family_weight
    # posts the regency funds (local_redistribution's local hires): their honoraria and
    # operational allowance are APBD's, not Kemensos's (their top-up is APBD's anyway)
    n_local = 0
    if lever.apbd_posts:
        rows = np.fromiter(lever.apbd_posts, dtype=np.int64)
        n_local = int((f[rows] & ps.open[rows]).sum())
    n_national = n_fac - n_local
    lines = {
        "honoraria": n_national * base_pay,
        "operational": n_national * float(p["operational_rp_month"]),
        "supervision_apbn": sup_apbn * sup_cost,
        "training": float(model.cost_month) + float(lever.cost_month),
        "topup": pay - n_fac * base_pay,
        "supervision_apbd": sup_extra * sup_cost,
        "policy_apbd": float(lever.extra_cost_month),
        "local_posts_apbd": n_local * (base_pay + float(p["operational_rp_month"])),
        # PKH paid this month: compliant families whose payment is not withheld for late
        # verification data, plus the withheld months released now (sim/processes/timebudget.py)
        "transfers_pkh": (float((act & fam.pkh & fam.compliant & ~fam.pay_held).sum()) + model.pkh_arrears_month)
                         * w * p["pkh_transfer_rp_family_year"] / 12.0,
        "transfers_sembako": float((act & fam.sembako).sum()) * w * float(p["sembako_transfer_rp_family_month"]),
    }
    lines["apbn"] = sum(v for k, v in lines.items() if FUNDER.get(k) == "APBN")
    lines["apbd"] = sum(v for k, v in lines.items() if FUNDER.get(k) == "APBD")
    lines["cost"] = lines["apbn"] + lines["apbd"]
    return lines


def step(model: Model) -> None:
    """Account this month's cost by line and funder; keep the run's cumulative cost.

    Also books the month's lever flows from the lever surface (sim.surface): the courses a
    lever ran count in the month's ``trained``, their cost in ``training``.
    """
    model.trained_month += model.surface.courses_month
    lines = month_lines(model)
    model.cost_lines = lines
    model.cost_month = lines["cost"]
    model.cost_cum += lines["cost"]
