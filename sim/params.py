"""Model parameters: defaults, bounds, units, labels and the source of every default.

This is the one place where a parameter is declared. The model constructor, the
scenario files, the command line and (later) the web UI's sliders all read this
registry, so a default can never drift between them.

Source tags follow ../shared/design/MECHANISMS.md:
  [S]  the figure appears in the cited source,
  [D]  derived by arithmetic from sourced figures (the arithmetic is given),
  [A]  a modelling assumption, to calibrate or to test for sensitivity.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np


class ParameterError(ValueError):
    """An unknown parameter or a value of the wrong type or out of range."""


@dataclass(frozen=True)
class Param:
    """One parameter: its default, valid range, unit, label and source."""

    name: str
    default: float | int | bool | str
    low: float | None
    high: float | None
    unit: str
    label: str
    source: str
    group: str
    kind: str = "float"  # float | int | bool | choice
    choices: tuple[str, ...] = ()

    def check(self, value: Any, where: str = "") -> float | int | bool | str:
        """Return ``value`` if it is valid for this parameter, else raise ParameterError.

        numpy scalars (from sweeps or ``mesa.batch_run`` over np.arange) count as the Python
        type they hold; strings never count as numbers.
        """
        at = f"{where}: " if where else ""
        if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
            value = value.item()
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise ParameterError(
                    f"{at}parameter '{self.name}': expected one of {list(self.choices)}, got {value!r}"
                )
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise ParameterError(f"{at}parameter '{self.name}': expected true or false, got {value!r}")
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ParameterError(
                f"{at}parameter '{self.name}': expected a number ({self.unit}) in "
                f"[{self.low}, {self.high}], got {value!r}"
            )
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise ParameterError(f"{at}parameter '{self.name}': expected an integer, got {value!r}")
                value = int(value)
        elif not math.isfinite(value):
            raise ParameterError(f"{at}parameter '{self.name}': expected a finite number, got {value!r}")
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ParameterError(
                f"{at}parameter '{self.name}' = {value!r} is out of range: valid range is "
                f"[{self.low}, {self.high}] {self.unit}"
            )
        return int(value) if self.kind == "int" else float(value)


def _p(name: str, default: Any, low: float | None, high: float | None, unit: str, label: str,
       source: str, group: str, kind: str = "float", choices: tuple[str, ...] = ()) -> Param:
    return Param(name, default, low, high, unit, label, source, group, kind, choices)


_PARAMS: list[Param] = [
    # ---- facilitator time budget -------------------------------------------------
    _p("hours_per_month", 160.0, 80, 220, "h/month", "Contract hours per facilitator",
       "[A] 160-176 h/month, MECHANISMS.md section 7.3", "time"),
    _p("leave_share", 0.11, 0, 0.3, "fraction", "Time lost to public holidays and annual leave",
       "[D] 16 public holidays + 12 days' annual leave of ~255 working days; WHO WISN available "
       "working time, MECHANISMS.md 6.1", "time"),
    _p("support_share", 0.10, 0, 0.4, "fraction", "Time on coordination, meetings and courses",
       "[A] WISN category allowance (support activities done by every facilitator), MECHANISMS.md 6.1",
       "time"),
    _p("admin_min_per_family_month", 20.0, 0, 120, "min/family/month",
       "Data entry per family (e-PKH, SIKS-NG)",
       "[A] calibrate; paper: digital workload of e-PKH and SIKS-NG; GAO-03-357: admin 50-80% of "
       "caseworker time [S]", "time"),
    _p("digital_skill_admin_saving", 0.4, 0, 0.9, "fraction",
       "Admin time saved at full technical skill", "[A]", "time"),
    _p("group_size_families", 25, 5, 60, "families/group", "P2K2 group size",
       "[S, low confidence] 25-30 KPM per P2K2 group, EVIDENCE.md (Ponorogo observation)", "time", "int"),
    _p("group_session_h", 2.0, 0, 8, "h/group/month", "P2K2 session time per group",
       "[A]; P2K2 meets monthly [S] EVIDENCE.md", "time"),
    _p("visit_h", 0.75, 0.25, 3, "h/visit", "Home visit time including notes",
       "[A] 0.75-1.5 h, MECHANISMS.md section 7.4", "time"),
    _p("travel_scale", 1.0, 0.25, 3, "x", "Multiplier on district travel time per visit",
       "[A] district travel minutes are a documented rule, sim/data/README.md", "time"),
    _p("visits_target_per_family_month", 1 / 3, 0.05, 4, "visits/family/month",
       "Target home visits per family per month",
       "[A] one home visit per family per quarter, the cycle of PKH commitment verification [S] "
       "(EVIDENCE.md); no required visit frequency was found. With the default time budget a "
       "facilitator can meet it for about 175 families (load ratio 1)", "time"),
    _p("max_visits_per_family_month", 3, 1, 8, "visits/family/month",
       "Most home visits one family can get in a month", "[A]", "time", "int"),
    _p("absence_per_burnout", 0.1, 0, 0.5, "fraction at B=1", "Hours lost to absence at full burnout",
       "[A] anchored to sickness-absence OR 1.7-2.2 per exhaustion point, MECHANISMS.md 3.2", "time"),
    _p("productivity_loss_per_burnout", 0.2, 0, 0.5, "fraction at B=1",
       "Output per hour lost at full burnout", "[A] Homer (1985), MECHANISMS.md 7.3", "time"),
    # ---- time allocation, spare time and admin backlog (sim/processes/timebudget.py) ----
    _p("admin_weight_admin_speed", 3.0, 1, 10, "x contact", "Priority of admin over contact when time is short "
       "(evaluation on reporting speed)",
       "[A] ratio of the share of admin done to the share of home visits and P2K2 done; above 1 because "
       "evaluation rewards e-PKH input speed (Levianto & Warsidi 2025, sec. 4) and pay-for-performance "
       "shifts effort to the rewarded task (Gadsden et al. 2021, Bull. WHO 99:805-818) [S qualitative]",
       "time"),
    _p("admin_weight_social_outcome", 1.5, 0.25, 10, "x contact", "Priority of admin over contact when time "
       "is short (evaluation on social outcomes)",
       "[A] lower than under reporting-speed evaluation (Gadsden et al. 2021) but above 1: payments still "
       "depend on the data (Levianto & Warsidi 2025, sec. 4)", "time"),
    _p("visit_floor_share", 0.2, 0, 0.6, "fraction of hours", "Share of hours kept for home (verification) visits",
       "[A] at the low end of direct-service time: case managers spend 20-35% of their time in direct "
       "services (Children's Home Society of Florida 2018, CaseAIM evaluation); admin took 50-80% of "
       "child-welfare caseworkers' time (US GAO 2003, GAO-03-357) [S]", "time"),
    _p("visits_saturation_per_family_month", 1.0, 0.05, 4, "visits/family/month",
       "Visit rate that spare time approaches (diminishing returns)",
       "[A] one visit a month, the rhythm of P2K2 (monthly sessions, Kemensos PKH operational guidelines); "
       "2+ visits a month are needed for a substantive effect in home visiting (Nievar, Van Egeren & "
       "Pollard 2010, Infant Ment. Health J. 31(5):499-520) [S]", "time"),
    _p("backlog_max_months", 3.0, 0.5, 12, "months", "Age at which unentered admin is written off",
       "[A] one verification quarter: the commitment-verification form covers three months (Kemensos "
       "VERKOM form, low confidence) and PKH is paid in quarterly tranches (Kemensos 2021) [S]", "time"),
    _p("verification_admin_share", 0.25, 0.02, 1, "fraction of admin", "Share of admin that payments depend on",
       "[A] commitment verification and disbursement data, entered first; 2 of the 9 report lines (RHK) "
       "of a PKH facilitator (Kemensos facilitator report templates, low confidence)", "time"),
    _p("payment_arrears_max_months", 3, 0, 12, "months", "Withheld PKH months paid late once the data is in",
       "[A] up to one quarterly tranche is paid late; older withheld months are lost. PKH tranches are "
       "quarterly (Kemensos 2021) [S]; no rule for late payment was found", "time", "int"),
    # ---- visit quality -------------------------------------------------------------
    _p("quality_burnout_penalty", 0.25, 0, 0.6, "fraction at B=1", "Visit quality lost at full burnout",
       "[D] burnout-quality r = -0.26, Salyers et al. 2017, MECHANISMS.md 7.5", "quality"),
    _p("quality_time_exponent", 0.5, 0, 2, "-", "Quality elasticity to time per visit",
       "[A] MECHANISMS.md 7.5", "quality"),
    _p("local_closeness_bonus", 0.15, 0, 0.5, "fraction", "Quality bonus of a locally recruited facilitator",
       "[A] Putri & Anshori (2021) via the paper: social closeness improves facilitation", "quality"),
    _p("supervision_quality_bonus", 0.1, 0, 0.3, "fraction at full support",
       "Quality bonus from supervision", "[S] routine supervision +10.7 pp, Rowe et al. 2022", "quality"),
    _p("outcome_evaluation_quality_bonus", 0.1, 0, 0.5, "fraction",
       "Quality bonus when evaluation rewards social outcomes",
       "[A] paper recommendation 3; PBIs shift effort to rewarded tasks (Gadsden et al. 2021) [S]",
       "quality"),
    # ---- families -------------------------------------------------------------------
    _p("behaviour_gain", 0.25, 0, 1, "/month at full dose", "Behaviour gain per month at full dose",
       "[A] calibrate; home-visiting meta-analyses find modest effects, ES 0.20 (Filene et al. 2013) [S]",
       "families"),
    _p("visits_half_effect", 1.0, 0.1, 4, "visits/month", "Visits per month giving half the dose effect",
       "[A] Hill curve, n = 2: 1 visit/month gives 0.5 of the full effect, 2 give 0.8; frequency "
       "matters most at low doses (Nievar et al. 2010 found 2+ visits/month needed for a substantive "
       "effect)", "families"),
    _p("group_session_dose", 0.4, 0, 2, "visit-equivalents", "Dose of one P2K2 session",
       "[A]", "families"),
    _p("behaviour_decay", 0.03, 0, 0.2, "/month", "Monthly decay of behaviour (offset by contact)",
       "[A] 0.02-0.05/month, MECHANISMS.md 7.8", "families"),
    _p("compliance_base", 0.80, 0, 1, "probability", "Base chance of meeting PKH conditions",
       "[A] calibrate", "families"),
    _p("compliance_monitoring_effect", 0.08, 0, 0.3, "probability",
       "Compliance gain from recent monitoring (a visit)",
       "[A] 0.05-0.10; Schady & Araujo 2008 perceived conditionality [S qualitative]", "families"),
    _p("compliance_behaviour_effect", 0.15, 0, 0.5, "probability at K=1",
       "Compliance gain from education and health behaviour", "[A]", "families"),
    _p("monitoring_memory_months", 3.0, 0.5, 12, "months", "How long a visit is felt as monitoring",
       "[A]; education commitment verified quarterly [S] EVIDENCE.md", "families"),
    _p("welfare_growth_macro_year", 0.0, -0.2, 0.2, "log/year",
       "Real growth of KPM consumption relative to the poverty line", "[A] calibrate to BPS", "families"),
    _p("welfare_growth_behaviour_year", 0.04, 0, 0.3, "log/year at K=1",
       "Extra consumption growth from education, health and finance behaviour",
       "[A] slow and indirect: Chile Solidario and Cahyadi et al. 2020 found little income effect [S]",
       "families"),
    _p("welfare_shock_sd", 0.05, 0, 0.3, "log/month", "Monthly consumption shock (s.d.)", "[A]", "families"),
    _p("welfare_persistence", 0.9, 0, 0.99, "-", "Monthly persistence of consumption shocks", "[A]",
       "families"),
    _p("welfare_sd_initial", 0.35, 0.05, 1.0, "log", "Spread of KPM consumption at start", "[A]", "families"),
    _p("share_poor_in_kpm", 0.5, 0.05, 1, "fraction", "Share of poor people living in KPM families",
       "[A] targeting exclusion errors; calibrate", "families"),
    _p("household_size", 4.0, 1, 8, "persons", "Persons per KPM family", "[A]", "families"),
    _p("poverty_line_rp_capita_month", 518667.0, 100000, 2000000, "Rp/person/month",
       "Poverty line, Kabupaten Bekasi", "[S] BPS 2020, sim/data/bps_poverty_series.csv", "families"),
    _p("pkh_transfer_rp_family_year", 2500000.0, 0, 20000000, "Rp/family/year", "Average PKH benefit",
       "[D] component amounts Rp0.9-3.0m per person, cap of four components, EVIDENCE.md", "families"),
    _p("sembako_transfer_rp_family_month", 200000.0, 0, 1000000, "Rp/family/month",
       "Sembako / BPNT benefit", "[S] Rp200k from March 2020, EVIDENCE.md", "families"),
    _p("graduation_threshold", 1.5, 1, 4, "x poverty line", "Consumption needed to graduate",
       "[A] 'graduasi sejahtera mandiri' has no published threshold", "families"),
    _p("graduation_months", 6, 1, 36, "months", "Months above threshold before graduation",
       "[A]", "families", "int"),
    _p("graduation_assessment_prob", 0.5, 0, 1, "/visited month",
       "Chance that a month with a home visit to an eligible family ends in graduation",
       "[A] calibrated: about 3.3% of families graduate a year after the first years (paper-2023, "
       "scale 0.25, seed 2), against 3.4% independent graduations nationally in 2020, EVIDENCE.md", "families"),
    _p("natural_exit_rate_year", 0.084, 0, 0.5, "/year", "Exits other than graduation",
       "[D] 837,531 natural exits of ~10m families in 2020, EVIDENCE.md", "families"),
    _p("population_growth_year", 0.032, 0, 0.1, "/year", "Regency population growth",
       "[D] BPS: 202,700/5.21% (2021) -> 204,100/4.93% (2023) gives 3.89m -> 4.14m", "families"),
    _p("nonkpm_poor_trend_year", -0.03, -0.3, 0.3, "log/year",
       "Trend of the poor outside KPM, relative to population", "[A] calibrate to BPS", "families"),
    # ---- burnout -------------------------------------------------------------------------
    _p("burnout_base", 0.02, 0, 0.1, "/month", "Baseline burnout from emotional labour",
       "[A] MECHANISMS.md 7.1", "burnout"),
    _p("burnout_overload", 0.4, 0, 1.5, "/month", "Burnout from load above the threshold",
       "[A] MECHANISMS.md 7.1", "burnout"),
    _p("burnout_threshold", 1.0, 0.5, 1.5, "load ratio", "Load ratio where overload starts",
       "[A] threshold form from Kim et al. 2019 ORs, MECHANISMS.md 2.2", "burnout"),
    _p("burnout_convexity", 1.5, 1, 3, "-", "Convexity of overload", "[A] queueing, MECHANISMS.md 7.1",
       "burnout"),
    _p("burnout_recovery_months", 3.0, 0.5, 12, "months", "Recovery time constant", "[A] MECHANISMS.md 7.2",
       "burnout"),
    _p("burnout_hysteresis", 2.0, 0, 5, "-", "Slower recovery when deeply burned out",
       "[A] Homer 1985; Levine 1985, MECHANISMS.md 7.2", "burnout"),
    _p("supervision_ratio", 70.0, 3, 300, "facilitators/supervisor", "Facilitators per supervisor",
       "[D] 2018: 34,552 pendamping, 531 coordinators and 408 supervisors, EVIDENCE.md", "burnout"),
    _p("supervision_good_ratio", 10.0, 3, 50, "facilitators/supervisor",
       "Ratio at which supervision gives full support", "[A] CWLA 1:5 [S]; coordinators are wider", "burnout"),
    _p("supervision_resource_max", 0.6, 0, 2, "R", "Support resources at full supervision",
       "[A] JD-R form 1/(1+R), Evers et al., MECHANISMS.md 1.3", "burnout"),
    _p("psychosocial_buffer", 0.5, 0, 2, "R at S=1", "Support resources from psychosocial skill", "[A]",
       "burnout"),
    # ---- skills and training ---------------------------------------------------------------
    _p("initial_skill_mean", 0.55, 0, 1, "0-1", "Mean skill of serving facilitators at start", "[A]", "skills"),
    _p("new_hire_skill", 0.35, 0, 1, "0-1", "Skill of a new hire", "[A]", "skills"),
    _p("skill_floor", 0.3, 0, 1, "0-1", "Skill level that decay tends to", "[A]", "skills"),
    _p("skill_decay_month", 0.063, 0, 0.3, "/month", "Decay of trained skill without use",
       "[D] half-life 11 months (mixed tasks), Tatel & Ackerman, MECHANISMS.md 4.3", "skills"),
    _p("skill_use_slowdown", 0.5, 0, 1, "-", "How much regular practice slows decay",
       "[A] Ameh et al. 2018; MECHANISMS.md 7.7", "skills"),
    _p("experience_gain_month", 0.005, 0, 0.05, "/month", "Skill learned on the job each month", "[A]",
       "skills"),
    _p("training_prob_month", 0.045, 0, 1, "/month", "Chance of an advanced course each month",
       "[D] calibrated to the paper's 41% without advanced training since 2021 (Kemensos survey "
       "2023): 0.045 gives 0.42 at January 2023 (paper-2023, scale 0.5, seeds 1-3; new hires count "
       "as untrained); without turnover 1 - 0.41^(1/24) = 0.037", "skills"),
    _p("training_gain_technical", 0.15, 0, 0.6, "fraction of gap", "Technical skill gain of a course",
       "[D] in-service training +7.3 pp at S~0.5, Rowe et al. 2021, MECHANISMS.md 7.7", "skills"),
    _p("training_gain_psychosocial", 0.15, 0, 0.6, "fraction of gap", "Psychosocial skill gain of a course",
       "[D] as technical, MECHANISMS.md 7.7", "skills"),
    _p("training_cost_rp", 5000000.0, 0, 50000000, "Rp/course", "Cost of one advanced course",
       "[A] a 10-day residential course at BBPPKS Bandung (EVIDENCE.md); price not found", "skills"),
    # ---- pay, motivation and attrition ------------------------------------------------------
    _p("incentive_rp_month", 3150000.0, 1000000, 15000000, "Rp/month", "Facilitator incentive (pay)",
       "[S] Rp3.1-3.2m a month, paper (midpoint)", "pay"),
    _p("operational_rp_month", 125000.0, 0, 2000000, "Rp/month", "Operational allowance",
       "[D] Rp500k every four months, EVIDENCE.md", "pay"),
    _p("reference_pay_rp_month", 4000000.0, 1000000, 20000000, "Rp/month",
       "Pay seen as fair for a full load (outside option)", "[A] calibrate; Herzberg hygiene factor (paper)",
       "pay"),
    _p("supervisor_cost_rp_month", 4500000.0, 0, 30000000, "Rp/month", "Cost of one supervisor", "[A]", "pay"),
    _p("motivation_adjust_months", 6.0, 1, 24, "months", "How fast motivation follows fairness", "[A]", "pay"),
    _p("motivation_quality_weight", 0.3, 0, 1, "fraction", "Quality lost at zero motivation", "[A]", "pay"),
    _p("quit_base_year", 0.05, 0, 0.6, "/year", "Quit rate of a rested, fairly paid facilitator",
       "[A] low end of paid caseworkers' 20-40% once burnout, pay and refresher multipliers apply "
       "(MECHANISMS.md 3.1); no attrition rate for pendamping was found (EVIDENCE.md)", "pay"),
    _p("quit_burnout_beta", 0.9, 0, 3, "log-hazard at B=1", "Quit hazard rise with burnout",
       "[D] ln 1.57 / 0.5, Willard-Grace et al. 2019, MECHANISMS.md 7.6", "pay"),
    _p("quit_pay_elasticity", 1.25, 0, 3, "-", "Quit elasticity to pay below the reference",
       "[S] Falch 2011, MECHANISMS.md 3.3", "pay"),
    _p("quit_no_refresher_mult", 1.3, 1, 4, "x", "Quit multiplier without a course in 12 months",
       "[A] Kwale OR 4.0 likely inflated, MECHANISMS.md 7.6", "pay"),
    _p("contract_nonrenewal_prob", 0.03, 0, 0.5, "/year", "Contracts not renewed at the yearly review",
       "[A] annual contracts [S] paper", "pay"),
    _p("recruitment_lag_months", 8, 0, 36, "months", "Months a vacant post stays empty",
       "[S, low confidence] a vacancy of about 8 months, EVIDENCE.md", "pay", "int"),
    _p("local_share_initial", 0.3, 0, 1, "fraction", "Share of facilitators placed in their home area",
       "[A] paper: placement ignores local ties", "pay"),
    _p("local_share_hires", 0.3, 0, 1, "fraction", "Share of new hires placed in their home area",
       "[A] paper: open selection on the ministry portal", "pay"),
    # ---- management scheme ------------------------------------------------------------------
    _p("evaluation_scheme", "admin_speed", None, None, "-", "What facilitators are evaluated on",
       "[S] paper: evaluation rewards e-PKH input speed and attendance", "management", "choice",
       ("admin_speed", "social_outcome")),
    _p("ideal_caseload", 150, 50, 400, "families/facilitator", "Recommended caseload (reporting line)",
       "[S] Kemensos 1:150, paper", "management", "int"),
]

PARAMS: dict[str, Param] = {p.name: p for p in _PARAMS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in _PARAMS))


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every parameter's default value."""
    return {name: p.default for name, p in PARAMS.items()}


def unknown_name_message(name: str, valid: list[str] | tuple[str, ...] | Mapping[str, Any], what: str = "parameter") -> str:
    """Say that ``name`` is unknown, suggest the closest valid names and list them all."""
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    return f"unknown {what} '{name}'.{hint} Valid {what}s: {', '.join(names)}"


def validate(overrides: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Return the full parameter set: defaults updated with checked ``overrides``.

    Raises ParameterError naming the parameter, the valid range and, for an unknown name,
    the closest valid names.
    """
    values = defaults()
    for name, value in overrides.items():
        spec = PARAMS.get(name)
        if spec is None:
            at = f"{where}: " if where else ""
            raise ParameterError(at + unknown_name_message(name, PARAMS))
        values[name] = spec.check(value, where)
    return values


def table() -> list[dict[str, Any]]:
    """Rows describing every parameter, for docs, manifests and the UI."""
    return [
        {"name": p.name, "group": p.group, "default": p.default, "low": p.low, "high": p.high,
         "unit": p.unit, "label": p.label, "source": p.source, "kind": p.kind,
         "choices": list(p.choices)}
        for p in _PARAMS
    ]
