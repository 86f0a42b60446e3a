"""Phase 4, families: behaviour, compliance, welfare, poverty, graduation, exits, entrants.

Behaviour (education, health, household finance; each K in [0, 1]):
    dose  = v^2 / (v^2 + v50^2),  v = home visits + group_session_dose * P2K2 coverage
    K    += eta * Q * dose * (1 - K) - decay * K                    (Filene et al. 2013; Nievar et al. 2010)
Compliance (PKH, verified each quarter in March, June, September, December):
    P(comply) = base + kappa * exp(-months_since_visit / memory) + beta * (mean(K_edu, K_health) - 0.5)
    A PKH family that fails loses its PKH payment until the next verification. A family whose
    verification data is late has its PKH payment withheld (sim/processes/timebudget.py).
Welfare (consumption per person / poverty line):
    log_perm += (g_macro + g_behaviour * mean(K)) / 12;  shock = rho * shock + sd * eps
    welfare   = exp(log_perm + shock) + transfers (PKH if compliant, Sembako)
    (eps is uniform with unit variance, sqrt(12) * (U - 1/2): the AR(1) sums ~10 of them, so
    the shock is close to normal, and a uniform draw costs a fifth of a normal one)
    poor      = welfare < 1
Graduation: welfare >= graduation_threshold for graduation_months in a row, and a home visit
this month that ends in graduation (probability graduation_assessment_prob): graduation
needs the facilitator's assessment, so it slows when facilitators are overloaded.
Natural exits at natural_exit_rate_year. New families fill the programme quota of the
year, placed where the eligible poor outside the programme are now; entrants and leavers are
counted by their welfare before transfers (sim.population: who is poor moving in or out of
the programme is the same person, only the transfer changes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import population
from sim.population import transfers

if TYPE_CHECKING:
    from sim.core import Model

SQRT12 = 12.0**0.5
VERIFICATION_MONTHS = (3, 6, 9, 12)  # quarterly verification of the education commitment [S] Permensos 1/2018


def dose(visits_equiv: np.ndarray, v50: float | np.floating) -> np.ndarray:
    """Hill dose-response (n = 2) of home-visit frequency: 0 at no contact, 0.5 at v50."""
    vn = visits_equiv * visits_equiv
    return vn / (vn + v50 * v50)


def step(model: Model) -> None:
    """Advance every family by one month.

    Rows of families that left hold stale values; they are masked where counted (``active``)
    and re-drawn when a new family takes the row, so the updates below run unmasked.
    """
    p = model.p
    fam = model.families
    ps = model.posts
    act = fam.active
    f32 = np.float32
    # per-post lookup tables with a trailing 0 so that fac = -1 (no facilitator) reads 0
    lut_q = np.zeros(ps.capacity + 1, dtype=f32)
    lut_q[:-1] = ps.quality * ps.filled
    lut_g = np.zeros(ps.capacity + 1, dtype=f32)
    lut_g[:-1] = p["group_session_dose"] * ps.group_coverage * ps.filled

    # behaviour
    v_eq = fam.visits + lut_g[fam.fac]
    q = lut_q[fam.fac] * (f32(0.7) + f32(0.3) * fam.rapport)
    gain = f32(p["behaviour_gain"]) * q * dose(v_eq, f32(p["visits_half_effect"]))
    keep = f32(1.0 - p["behaviour_decay"])
    for col in (fam.k_edu, fam.k_health, fam.k_fin):
        # K + gain (1 - K) - decay K  ==  K (1 - decay - gain) + gain
        col *= keep - gain
        col += gain

    # compliance, verified quarterly
    if model.month in VERIFICATION_MONTHS:
        u = model.streams["compliance"].random(fam.capacity, dtype=f32)
        p_ok = (f32(p["compliance_base"] - 0.5 * p["compliance_behaviour_effect"])
                + f32(p["compliance_monitoring_effect"]) * np.exp(fam.months_since_visit * f32(-1.0 / p["monitoring_memory_months"]))
                + f32(0.5 * p["compliance_behaviour_effect"]) * (fam.k_edu + fam.k_health))
        fam.compliant[:] = np.where(act, u < p_ok, fam.compliant)

    # welfare and poverty
    eps = model.streams["welfare"].random(fam.capacity, dtype=f32)
    kbar = fam.k_edu + fam.k_health + fam.k_fin
    fam.log_perm += f32(p["welfare_growth_macro_year"] / 12.0) + f32(p["welfare_growth_behaviour_year"] / 36.0) * kbar
    fam.shock *= f32(p["welfare_persistence"])
    fam.shock += (eps - f32(0.5)) * f32(SQRT12 * p["welfare_shock_sd"])
    np.exp(fam.log_perm + fam.shock, out=fam.welfare)
    np.less(fam.welfare, 1.0, out=fam.poor_pre)  # before transfers
    fam.poor_pre &= act
    fam.welfare += transfers(model, slice(None))
    np.less(fam.welfare, 1.0, out=fam.poor)
    fam.poor &= act

    # graduation
    above = act & (fam.welfare >= p["graduation_threshold"])
    fam.months_above += 1
    fam.months_above *= above
    u_grad = model.streams["graduation"].random(fam.capacity, dtype=f32)
    eligible = above & (fam.visits > 0) & (fam.months_above >= p["graduation_months"])
    graduates = np.flatnonzero(eligible & (u_grad < p["graduation_assessment_prob"] * model.surface.graduation_push))

    # natural exits and quota cuts
    u_exit = model.streams["exits"].random(fam.capacity, dtype=f32)
    exit_mask = act & (u_exit < model.natural_exit_prob)
    exit_mask[graduates] = False
    exits = np.flatnonzero(exit_mask)
    model.graduations_month = graduates.size
    model.graduated_districts = fam.district[graduates].astype(np.int64)
    model.exits_month = exits.size
    population.remove_families(model, np.concatenate([graduates, exits]))

    excess = model.n_families - model.quota_target()
    if excess > 0:
        rows = np.flatnonzero(fam.active)
        cut = model.streams["exits"].choice(rows, size=excess, replace=False)
        model.exits_month += cut.size
        population.remove_families(model, cut)
    elif excess < 0:
        population.enrol_families(model, -excess)

    # the population grows; the poor outside the programme follow their trend
    population.grow_population(model)
