"""Phase 4, families: behaviour, compliance, welfare, poverty, graduation, exits, entrants.

Behaviour (education, health, household finance; each K in [0, 1]):
    dose  = v^n / (v^n + v50^n),  v = home visits + group_session_dose * P2K2 coverage
    K    += eta * Q * dose * (1 - K) - decay * K                    MECHANISMS.md 7.8
Compliance (PKH, verified each quarter in March, June, September, December):
    P(comply) = base + kappa * exp(-months_since_visit / memory) + beta * (mean(K_edu, K_health) - 0.5)
    A PKH family that fails loses its PKH payment until the next verification.
Welfare (consumption per person / poverty line):
    log_perm += (g_macro + g_behaviour * mean(K)) / 12;  shock = rho * shock + sd * eps
    welfare   = exp(log_perm + shock) + transfers (PKH if compliant, Sembako)
    poor      = welfare < 1
Graduation: welfare >= graduation_threshold for graduation_months in a row, visited in the
last three months, and assessed this month (probability graduation_assessment_prob).
Natural exits at natural_exit_rate_year. New families fill the programme quota of the
year; poor entrants come from, and poor leavers return to, the poor outside the programme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.model import CaseloadModel

VERIFICATION_MONTHS = (3, 6, 9, 12)  # quarterly verification of the education commitment [S] EVIDENCE.md


def dose(visits_equiv: np.ndarray, v50: float, n: float = 2.0) -> np.ndarray:
    """Hill dose-response of home-visit frequency (0 at no contact, 0.5 at v50)."""
    vn = visits_equiv**n
    return vn / (vn + v50**n)


def transfers(model: CaseloadModel, rows: np.ndarray | slice) -> np.ndarray:
    """Transfers per person as a share of the poverty line for ``rows``."""
    fam = model.families
    return (fam.pkh[rows] & fam.compliant[rows]) * model.pkh_ratio + fam.sembako[rows] * model.sembako_ratio


def step(model: CaseloadModel) -> None:
    """Advance every family by one month."""
    p = model.p
    fam = model.families
    ps = model.posts
    act = fam.active
    served = act & (fam.fac >= 0)
    fac = np.where(served, fam.fac, 0)

    # behaviour
    v_eq = fam.visits + np.where(served, p["group_session_dose"] * ps.group_coverage[fac], 0.0)
    q = np.where(served, ps.quality[fac] * (0.7 + 0.3 * fam.rapport), 0.0)
    gain = p["behaviour_gain"] * q * dose(v_eq, p["visits_half_effect"])
    decay = p["behaviour_decay"]
    for col in (fam.k_edu, fam.k_health, fam.k_fin):
        col += act * (gain * (1.0 - col) - decay * col)

    # compliance, verified quarterly
    if model.month in VERIFICATION_MONTHS:
        u = model.streams["compliance"].random(fam.capacity)
        p_ok = (p["compliance_base"]
                + p["compliance_monitoring_effect"] * np.exp(-fam.months_since_visit / p["monitoring_memory_months"])
                + p["compliance_behaviour_effect"] * (0.5 * (fam.k_edu + fam.k_health) - 0.5))
        fam.compliant[:] = np.where(act, u < np.clip(p_ok, 0.0, 1.0), fam.compliant)

    # welfare and poverty
    eps = model.streams["welfare"].standard_normal(fam.capacity)
    kbar = (fam.k_edu + fam.k_health + fam.k_fin) / 3.0
    fam.log_perm += act * (p["welfare_growth_macro_year"] + p["welfare_growth_behaviour_year"] * kbar) / 12.0
    fam.shock[:] = np.where(act, p["welfare_persistence"] * fam.shock + p["welfare_shock_sd"] * eps, fam.shock)
    fam.welfare[:] = np.where(act, np.exp(fam.log_perm + fam.shock) + transfers(model, slice(None)), 0.0)
    fam.poor[:] = act & (fam.welfare < 1.0)

    # graduation
    above = act & (fam.welfare >= p["graduation_threshold"])
    fam.months_above[:] = np.where(above, fam.months_above + 1, 0)
    u_grad = model.streams["graduation"].random(fam.capacity)
    eligible = served & (fam.months_above >= p["graduation_months"]) & (fam.months_since_visit <= 2)
    graduates = np.flatnonzero(eligible & (u_grad < p["graduation_assessment_prob"] * model.graduation_push))

    # natural exits and quota cuts
    u_exit = model.streams["exits"].random(fam.capacity)
    exit_mask = act & (u_exit < model.natural_exit_prob)
    exit_mask[graduates] = False
    exits = np.flatnonzero(exit_mask)
    model.graduations_month = graduates.size
    model.graduated_districts = fam.district[graduates].astype(np.int64)
    model.exits_month = exits.size
    model.remove_families(np.concatenate([graduates, exits]))

    excess = model.n_families - model.quota_target()
    if excess > 0:
        rows = np.flatnonzero(fam.active)
        cut = model.streams["exits"].choice(rows, size=excess, replace=False)
        model.exits_month += cut.size
        model.remove_families(cut)
    elif excess < 0:
        model.add_families(-excess)

    # the population grows; the poor outside the programme follow their trend
    model.population = model.population * model.pop_growth_month
    model.nonkpm_poor = model.nonkpm_poor * model.pop_growth_month * model.nonkpm_trend_month
