"""Phase 5, workforce: burnout, skills and training, motivation, quits and contract reviews.

Burnout (Homer 1985; Evers et al.; docs/REFERENCES.md), with load ratio L from the time budget
and three traits of each facilitator drawn when she is hired (sim.population.draw_facilitator_traits; Alarcon et al.
2009, Bakker & Demerouti 2007, Sonnentag & Fritz 2007): susceptibility s_i (lognormal, mean 1,
log s.d. burnout_susceptibility_sd), overload threshold theta_i (normal around
burnout_threshold, s.d. burnout_threshold_sd, clipped to [0.5, 1.5]) and recovery multiplier
r_i (lognormal, mean 1, log s.d. burnout_recovery_sd):
    R     = supervision support + psychosocial_buffer * S_psy
    up    = s_i (b0 + alpha * max(0, L - theta_i)^gamma) / (1 + R) * (1 - B) * (1 + 0.5 * (1 - M))
    down  = B / (tau0 * r_i * (1 + k * B))
so that burnout at one caseload is a distribution, not one value.
Training: an advanced course with probability training_prob_month (the lever training_platform
adds online courses of its own after this phase):
    S <- S + g * (1 - S) for technical and psychosocial skill.
Skill decay towards the floor, slowed by practice (psychosocial: use = visits done / visits
wanted; technical: use = 1, data entry is daily):
    S <- floor + (S - floor) * exp(-lambda * (1 - u * use));  S += experience * use * (1 - S)
Motivation follows pay fairness f = (pay / reference pay) / sqrt(max(1, L)) (Herzberg):
    M <- M + (1 / (1 + exp(-3 (f - 1))) - M) / motivation_adjust_months
Quits, monthly hazard (Willard-Grace et al. 2019; Falch 2011; Ngugi et al. 2018):
    h = h0 * exp(beta_B * B) * (pay ratio)^(-eps below 1, -0.2 above) * (m_ref if no course in 12 months)
Yearly contract review in each facilitator's contract month: not renewed with probability
contract_nonrenewal_prob * (1 + B). Quits and non-renewals are both counted as ``quits``
(leavers) in the outputs. A post left empty is refilled after the recruitment lag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import population

if TYPE_CHECKING:
    from sim.core import Model


def motivation_target(model: Model, pay_ratio: np.ndarray) -> np.ndarray:
    """Motivation each facilitator tends to: a logistic of pay fairness (Herzberg)."""
    fairness = pay_ratio / np.sqrt(np.maximum(1.0, model.posts.load_ratio))
    return 1.0 / (1.0 + np.exp(-3.0 * (fairness - 1.0)))


def burnout_next(model: Model, b: np.ndarray) -> np.ndarray:
    """Burnout a month later from burnout ``b``, under this month's load and support (JD-R)."""
    p = model.p
    ps = model.posts
    r = model.supervision_resource + p["psychosocial_buffer"] * ps.s_psy
    over = np.maximum(0.0, ps.load_ratio - ps.overload_threshold) ** p["burnout_convexity"]
    up = (ps.susceptibility * (p["burnout_base"] + p["burnout_overload"] * over) / (1.0 + r) * (1.0 - b)
          * (1.0 + 0.5 * (1.0 - ps.motivation)))
    down = b / (p["burnout_recovery_months"] * np.maximum(ps.recovery_mult, 1e-9) * (1.0 + p["burnout_hysteresis"] * b))
    return np.clip(b + up - down, 0.0, 1.0)


def step(model: Model) -> None:
    """Advance every facilitator by one month."""
    p = model.p
    ps = model.posts
    f = ps.filled
    b = ps.burnout

    # motivation from pay fairness
    pay_ratio = np.where(f, ps.incentive_rp / p["reference_pay_rp_month"], 1.0)
    m_star = motivation_target(model, pay_ratio)
    ps.motivation += f * (m_star - ps.motivation) / p["motivation_adjust_months"]

    # burnout
    ps.burnout[:] = np.where(f, burnout_next(model, b), 0.0)

    # training
    u = model.streams["training"].random(ps.capacity)
    trained = f & (u < p["training_prob_month"])
    n_trained = int(trained.sum())
    ps.s_tech[:] = np.where(trained, ps.s_tech + p["training_gain_technical"] * (1 - ps.s_tech), ps.s_tech)
    ps.s_psy[:] = np.where(trained, ps.s_psy + p["training_gain_psychosocial"] * (1 - ps.s_psy), ps.s_psy)
    ps.months_since_training[:] = np.where(trained, 0, np.minimum(ps.months_since_training + f, 999))
    ps.trained_since_start |= trained
    model.trained_month = n_trained
    model.cost_month += n_trained * p["training_cost_rp"]

    # skill decay and experience
    wanted = ps.caseload * p["visits_target_per_family_month"]
    use_psy = np.where(wanted > 0, np.minimum(1.0, ps.visits_done / np.maximum(wanted, 1e-9)), 0.0)
    lam, floor, slow, xp = p["skill_decay_month"], p["skill_floor"], p["skill_use_slowdown"], p["experience_gain_month"]
    for col, use in ((ps.s_psy, use_psy), (ps.s_tech, np.ones(ps.capacity))):
        decayed = np.where(col > floor, floor + (col - floor) * np.exp(-lam * (1.0 - slow * use)), col)
        col[:] = np.where(f, np.clip(decayed + xp * use * (1.0 - decayed), 0.0, 1.0), col)

    # quits and contract reviews
    h0 = -np.log(1.0 - p["quit_base_year"]) / 12.0
    pay_mult = np.where(pay_ratio < 1.0, pay_ratio ** (-p["quit_pay_elasticity"]), pay_ratio ** (-0.2))
    ref_mult = np.where(ps.months_since_training >= 12, p["quit_no_refresher_mult"], 1.0)
    hazard = h0 * np.exp(p["quit_burnout_beta"] * ps.burnout) * pay_mult * ref_mult
    u_quit = model.streams["attrition"].random((2, ps.capacity))
    quits = f & (u_quit[0] < 1.0 - np.exp(-hazard))
    review = f & (ps.contract_month == model.month) & (ps.tenure_months >= 11)
    not_renewed = review & ~quits & (u_quit[1] < p["contract_nonrenewal_prob"] * (1.0 + ps.burnout))
    leavers = np.flatnonzero(quits | not_renewed)
    model.quits_month = leavers.size
    ps.tenure_months += f
    population.vacate_posts(model, leavers)
