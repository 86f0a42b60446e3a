"""A steady start: every process begins in (or close to) its stationary state.

Without this the first simulated years show start-up drift, not policy or trend: shocks that
start at 0 and grow to their stationary spread, a top tail of families that has never been
thinned by graduation, skills and behaviour relaxing from arbitrary starting draws, no
vacancies until the first quits pass the recruitment lag (docs/ODD.md 5.4). The model
therefore starts from stationary draws where a process has a closed form, and runs the
others for warm-up months that are discarded before the first recorded month:

1. Consumption shocks: drawn from the stationary law of the AR(1),
   N(0, sd^2 / (1 - rho^2)), for initial families and for entrants (``stationary_shock``);
   months above the graduation threshold follow from a shock history drawn backwards from
   the stationary law (``months_above_from_history``), not an ad hoc draw.
2. Workforce (``warm_up_workforce``): the real staffing, time-budget and workforce phases run
   for ``WORKFORCE_MONTHS`` months with no policy and no record, so that burnout, skills,
   motivation, tenure, training history and vacancies (with their remaining recruitment lag)
   are those of a workforce that has long worked under the initial caseloads.
3. Families (``warm_up_families``): behaviour starts at its stationary law under the
   facilitators' visits and quality (the fixed point of the behaviour equation, mixed with
   entrants' draws by time in the programme); consumption has grown with behaviour over each
   family's time in the programme; then ``FAMILY_MONTHS`` months of shocks, graduation,
   natural exits and refills are run so that the families able to graduate have done so as
   often as in a stationary programme. The welfare location (of initial families and of
   entrants) is then shifted so that the initial share of poor KPM equals the profile's.

Everything here happens before any policy is set up, so every scenario of a replicate starts
from the same state (paired comparisons). Draws come from the ``warmup`` stream and from the
streams of the phases that are run.
"""

from __future__ import annotations

from typing import Any

import numpy as np

# the stationary shock law is also what entrants draw from, so it lives with enrolment
from sim.population import months_above_from_history, shock_sd, stationary_shock, transfers
from sim.processes import families, staffing, timebudget, visits, workforce

#: the CaseloadModel under construction. Typed loosely: the warm-up sets Mesa's step counter
#: and the model's month, which sim.core.Model declares read-only, and importing sim.model
#: here would make an import cycle (tests/test_imports.py).
CaseloadModel = Any

#: months the workforce phases are run before month 1: several times the slowest workforce
#: time constant (skill decay, 1 / 0.063 = 16 months) and the recruitment lag (8 months)
WORKFORCE_MONTHS = 60
#: months the families' welfare and graduation are run before month 1: graduation thins the
#: top tail on a time scale of a year or two (6 months above the line, then a visited month)
FAMILY_MONTHS = 12


def _run_minima(p: dict, rng: np.random.Generator, g: int, paths: int = 4000) -> np.ndarray:
    """Sorted minima over g months of stationary AR(1) shock paths (for P(all g months above))."""
    rho = p["welfare_persistence"]
    sd = shock_sd(p)
    innov = np.sqrt(max(1.0 - rho * rho, 0.0)) * sd
    x = sd * rng.standard_normal(paths)
    low = x.copy()
    for _ in range(max(g - 1, 0)):
        x = rho * x + innov * rng.standard_normal(paths)
        np.minimum(low, x, out=low)
    return np.sort(low)


def warm_up_workforce(model: CaseloadModel, months: int = WORKFORCE_MONTHS) -> None:
    """Run staffing, time budget and workforce for ``months`` months before month 1.

    Runs before the families are created: each filled post carries its kecamatan's families
    shared evenly over the kecamatan's filled posts (what the rebalancing of the staffing
    phase does), so a warm-up month costs a few operations on a few hundred posts. The
    model's step counter runs 1..months meanwhile (recruitment lags count in steps); at the
    end, pending refills are shifted so that they keep their remaining lag, the counter is
    back at 0, and ``trained_since_start`` is cleared (it counts from month 1).
    """
    ps = model.posts
    fam_d = model.profile.districts["kpm_families"].to_numpy(dtype=np.float64) * model.family_weight

    def even_share() -> None:
        staff = np.bincount(ps.district[ps.filled], minlength=model.n_districts)
        per = np.where(staff > 0, fam_d / np.maximum(staff, 1), 0.0)
        ps.caseload[:] = np.where(ps.filled, per[ps.district], 0.0)

    model.refresh_caseload = even_share  # type: ignore[method-assign]
    try:
        for k in range(months):
            model.steps = k + 1
            model.month = model.start.plus(k - months).month
            model._counters()
            staffing.step(model)
            timebudget.step(model)
            workforce.step(model)
    finally:
        del model.refresh_caseload
    pending = ps.refill_step >= 0
    ps.refill_step[pending] -= months
    model.steps = 0
    ps.trained_since_start[:] = False
    model.changed_districts.clear()
    model._counters()


def _expected_dose(model: CaseloadModel, rate: np.ndarray, group: np.ndarray) -> np.ndarray:
    """E[dose] when visits are floor(rate) or floor(rate) + 1 (the visits phase's rounding)."""
    p = model.p
    v50 = p["visits_half_effect"]
    cap = p["max_visits_per_family_month"]
    lo = np.minimum(np.floor(rate), cap)
    hi = np.minimum(lo + 1, cap)
    frac = rate - np.floor(rate)
    return (1 - frac) * families.dose(lo + group, v50) + frac * families.dose(hi + group, v50)


def warm_up_families(model: CaseloadModel, months: int = FAMILY_MONTHS) -> None:
    """Bring behaviour, consumption and graduation eligibility to their stationary state."""
    p = model.p
    fam = model.families
    ps = model.posts
    rng = model.streams["warmup"]
    rows = np.flatnonzero(fam.active)
    n = rows.size
    if n == 0:
        return
    # the facilitators' visits and quality under the warmed-up workforce
    timebudget.step(model)
    visits.step(model)
    fac = fam.fac[rows]
    has = fac >= 0
    safe = np.where(has, fac, 0)
    cl = np.maximum(ps.caseload[safe], 1e-9)
    rate = np.where(has, ps.visits_done[safe] / cl, 0.0)
    # within a kecamatan a family's visit chance moves as facilitators come, go and burn out,
    # so the warm-up gives every family its kecamatan's mean (a fixed post rate would let the
    # families of momentarily slow posts pile up above the graduation line)
    dist = fam.district[rows]
    nd = model.n_districts
    rate = (np.bincount(dist, weights=rate, minlength=nd) / np.maximum(np.bincount(dist, minlength=nd), 1))[dist]
    group = np.where(has, p["group_session_dose"] * ps.group_coverage[safe], 0.0)
    q = np.where(has, ps.quality[safe], 0.0) * (0.7 + 0.3 * fam.rapport[rows])
    gain = p["behaviour_gain"] * q * _expected_dose(model, rate, group)
    decay = p["behaviour_decay"]
    keep = 1.0 - decay - gain
    k_star = np.where(gain + decay > 0, gain / np.maximum(gain + decay, 1e-12), 0.0)

    # time in the programme: stationary (geometric) at the natural exit rate
    h = max(model.natural_exit_prob, 1e-6)
    age = rng.geometric(h, n) - 1
    growth = 0.0
    keep_a = np.power(keep, age)
    span = (1.0 - keep_a) / np.maximum(1.0 - keep, 1e-12)
    for col in (fam.k_edu, fam.k_health, fam.k_fin):
        k0 = col[rows].astype(np.float64)
        # consumption growth accumulated over the family's time in the programme:
        # sum over a months of K(t) = k* a + (k0 - k*) (1 - keep^a) / (1 - keep)
        growth = growth + k_star * age + (k0 - k_star) * span
        col[rows] = k_star + (k0 - k_star) * keep_a
    grown = (p["welfare_growth_behaviour_year"] / 36.0 * growth).astype(np.float32)
    fam.log_perm[rows] += grown

    # months of shocks, graduation, exits and refills (rows are re-drawn in place); float32
    # and draws only where needed keep a month to a few operations on the family columns
    f32 = np.float32
    t = transfers(model, rows)
    thr = f32(p["graduation_threshold"])
    g_months = p["graduation_months"]
    assess = p["graduation_assessment_prob"]
    rho = f32(p["welfare_persistence"])
    sd_eps = f32(np.sqrt(12.0) * p["welfare_shock_sd"])
    sd = p["welfare_sd_initial"]
    drift = f32(p["welfare_growth_macro_year"] / 12.0)
    g_beh = f32(p["welfare_growth_behaviour_year"] / 36.0)
    lp = fam.log_perm[rows].copy()
    s = fam.shock[rows].copy()
    kbar = (fam.k_edu[rows] + fam.k_health[rows] + fam.k_fin[rows]).astype(f32)
    gain3 = (3.0 * gain).astype(f32)
    keep_k = f32(1.0 - decay) - gain.astype(f32)
    above_n = fam.months_above[rows].astype(np.int32)
    exit_in = rng.geometric(h, n)  # months until a natural exit
    # PKH compliance is verified every quarter (7.4), so a family's PKH transfer comes and
    # goes; without that, the warm-up would thin only the families that keep it. Chance of
    # complying: the compliance equation at the family's behaviour and its expected
    # monitoring term E[exp(-months since visit / memory)] = c / (1 - (1 - c) e^(-1/memory))
    # for a monthly visit chance c.
    c = np.clip(rate, 0.0, 1.0)
    decay_m = np.exp(-1.0 / p["monitoring_memory_months"])
    monitor = np.where(c > 0, c / np.maximum(1.0 - (1.0 - c) * decay_m, 1e-12), 0.0)
    beta = p["compliance_behaviour_effect"]
    pkh = fam.pkh[rows]
    sembako_t = (fam.sembako[rows] * model.sembako_ratio).astype(f32)
    compliant = fam.compliant[rows].copy()

    def thresholds(t: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # above the graduation line iff exp(lp + s) + t >= thr, i.e. lp + s >= log(thr - t);
        # poor iff lp + s < log(1 - t)
        return (np.log(np.maximum(thr - t, f32(1e-30))).astype(f32),
                np.log(np.clip(1.0 - t, 1e-6, None)).astype(f32))

    lthr, lpoor = thresholds(t)
    target = model.initial_kpm_poor_share

    def recentre() -> float:
        # shift the welfare location (of these families and of entrants) so that the share of
        # poor KPM is the profile's; done every few months, so that graduation keeps thinning
        # the shifted distribution and the final shift is small
        delta = float(np.quantile(lpoor - s - lp, 1.0 - target))
        lp[:] += f32(delta)
        model.welfare_location += delta
        return delta

    # Stationary consumption: a family at permanent level x stays in the programme for
    # 1 / (h + H(x)) months on average, h the natural exit hazard and H(x) its graduation
    # hazard = P(the last graduation_months shocks all above the line | x) x visit chance x
    # assessment chance. So the stationary density is the entrants' density x h / (h + H(x)):
    # drawn by rejection (a rejected family is re-drawn from the entrants' law), and the
    # location solved (a few fixed-point steps) so that the share of poor KPM is the profile's.
    # P(all of the last graduation_months shocks >= q) on a grid of q, looked up by index
    mins = _run_minima(p, rng, int(g_months))
    grid_lo, grid_hi, cells = float(mins[0]), float(mins[-1]), 1024
    step_q = max((grid_hi - grid_lo) / cells, 1e-12)
    p_above = (1.0 - np.searchsorted(mins, grid_lo + step_q * np.arange(cells + 1), side="left") / mins.size).astype(f32)

    def all_above(q: np.ndarray) -> np.ndarray:
        k = np.clip((q - f32(grid_lo)) * f32(1.0 / step_q), 0, cells).astype(np.intp)
        return p_above[k]

    def stationary_draw(mu: float) -> None:
        todo = np.arange(n)
        lp[:] = mu + sd * rng.standard_normal(n).astype(f32) + grown
        for _ in range(40):
            above_all = all_above(lthr[todo] - lp[todo])
            hazard = above_all * np.minimum(rate[todo], 1.0) * assess
            keep = rng.random(todo.size) * (h + hazard) < h
            todo = todo[~keep]
            if todo.size == 0:
                break
            lp[todo] = mu + sd * rng.standard_normal(todo.size).astype(f32) + grown[todo]

    mu = model.welfare_location
    for _ in range(4):
        stationary_draw(mu)
        mu += float(np.quantile(lpoor - s - lp, 1.0 - target))
    model.welfare_location = mu
    stationary_draw(mu)
    above_n = months_above_from_history(p, lp.astype(np.float64), s, t.astype(np.float64), rng).astype(np.int32)

    for month in range(months):
        if month % 3 == 2:
            p_ok = (p["compliance_base"] - 0.5 * beta + p["compliance_monitoring_effect"] * monitor
                    + beta * kbar / 3.0)
            compliant = rng.random(n) < p_ok
            t = (pkh & compliant) * f32(model.pkh_ratio) + sembako_t
            lthr, lpoor = thresholds(t)
        s *= rho
        s += (rng.random(n, dtype=f32) - f32(0.5)) * sd_eps
        lp += drift + g_beh * kbar
        above_n += 1
        above_n *= (lp + s) >= lthr
        exit_in -= 1
        cand = np.flatnonzero(above_n >= g_months)
        u = rng.random((2, cand.size))
        out_mask = exit_in <= 0
        out_mask[cand[(u[0] < rate[cand]) & (u[1] < assess)]] = True
        out = np.flatnonzero(out_mask)
        if out.size:
            # a leaver's row is taken by an entrant drawn like model entrants
            lp[out] = model.welfare_location + sd * rng.standard_normal(out.size)
            s[out] = stationary_shock(p, rng, out.size)
            above_n[out] = 0
            exit_in[out] = rng.geometric(h, out.size)
            kbar[out] = rng.beta(2.0, 3.0, (3, out.size)).sum(axis=0)
        kbar *= keep_k
        kbar += gain3
    # the behaviour columns follow kbar (their split is kept)
    old = (fam.k_edu[rows] + fam.k_health[rows] + fam.k_fin[rows]).astype(np.float64)
    ratio = np.where(old > 0, kbar / np.maximum(old, 1e-12), 1.0)
    for col in (fam.k_edu, fam.k_health, fam.k_fin):
        col[rows] = np.clip(col[rows] * ratio, 0.0, 1.0)

    model.warmup_last_shift = recentre()
    fam.compliant[rows] = compliant
    fam.log_perm[rows] = lp
    fam.shock[rows] = s
    market = np.exp(lp + s)
    fam.poor_pre[rows] = market < 1.0
    fam.welfare[rows] = market + t
    fam.poor[rows] = fam.welfare[rows] < 1.0
    # (a family lifted above the line by the last, small shift counts one month above)
    above_now = fam.welfare[rows] >= thr
    fam.months_above[rows] = np.where(above_now, np.clip(above_n, 1, np.iinfo(np.int16).max), 0)
    # months since the last visit: stationary (geometric) at the family's monthly visit chance
    chance = np.clip(rate, 0.0, 1.0)
    msv = np.full(n, 120, dtype=np.int64)
    seen = chance > 0
    msv[seen] = np.minimum(rng.geometric(chance[seen]) - 1, 120)
    fam.months_since_visit[rows] = msv
    fam.visits[rows] = 0
