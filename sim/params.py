"""Model parameters: defaults, bounds, units, labels and the source of every default.

This is the one place where a parameter is declared. The model constructor, the
scenario files, the command line and (later) the web UI's sliders all read this
registry, so a default can never drift between them.

Every source starts with a tag, kept in ``Param.tag``:
  [S]  the figure appears in the cited source,
  [D]  derived by arithmetic from sourced figures (the arithmetic is given),
  [A]  a modelling assumption, to calibrate or to test for sensitivity.
Short citations ("Author Year, table/page") point to docs/REFERENCES.md.

Lever settings are registered here too, as ``lever.setting`` (``caseload_cap.cap``), with
the same type and check rule, so ``caseload params``, scenarios, sweeps and calibration
see one registry. The structural inputs of a run (seed, months, scale, start) have their
bounds in ``STRUCTURAL`` and are checked by ``check_structural`` only.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.districts import district_names


class ParameterError(ValueError):
    """An unknown parameter or a value of the wrong type or out of range; ``key`` names it."""

    def __init__(self, message: str, key: str = "") -> None:
        super().__init__(message)
        self.key = key


KINDS = ("float", "int", "bool", "choice", "list[str]", "month")
TAGS = ("S", "D", "A")
_MONTH = re.compile(r"(\d{4})-(\d{2})")


def _tag_of(source: str) -> str:
    """The source tag: the letter after the leading '[' ([S], [S, low confidence], [D], [A])."""
    m = re.match(r"\s*\[([SDA])", source)
    return m.group(1) if m else ""


@dataclass(frozen=True)
class Param:
    """One parameter, lever setting or structural input: default, valid range, unit, label, source.

    ``lever`` is the policy lever a setting belongs to (its name is then ``lever.setting``),
    None for a model parameter. ``tag`` is 'S' (sourced), 'D' (derived) or 'A' (assumption),
    read from the source's leading [S]/[D]/[A]. ``kind`` 'list[str]' is a list of names from
    ``choices`` (``what`` names one item in messages; at least ``min_items``, no repeats).
    """

    name: str
    default: Any
    low: float | None
    high: float | None
    unit: str
    label: str
    source: str
    group: str
    kind: str = "float"  # float | int | bool | choice | list[str] | month
    choices: tuple[str, ...] = ()
    lever: str | None = None
    tag: str = ""
    what: str = "name"
    min_items: int = 0

    def __post_init__(self) -> None:
        if not self.tag:
            object.__setattr__(self, "tag", _tag_of(self.source))

    @property
    def key(self) -> str:
        """The name within its lever (``cap`` for ``caseload_cap.cap``), or the name."""
        return self.name.split(".", 1)[1] if self.lever else self.name

    def check(self, value: Any, where: str = "") -> Any:
        """Return ``value`` as this parameter's Python type if valid, else raise ParameterError.

        One rule for every parameter and lever setting: numpy scalars count as the Python
        type they hold; an integer takes 4, 4.0 and np.int64(4) but not 4.5; a float takes
        any finite int or float and returns a Python float; strings never count as numbers
        and true/false is not a number.
        """
        at = f"{where}: " if where else ""
        what = "setting" if self.lever else "parameter"
        head = f"{at}{what} '{self.name}'"

        def bad(msg: str) -> ParameterError:
            return ParameterError(f"{head}: {msg}", self.name)

        if isinstance(value, np.generic) and not isinstance(value, (np.str_, np.bytes_)):
            value = value.item()
        if self.kind == "choice":
            if not isinstance(value, str) or value not in self.choices:
                raise bad(f"expected one of {list(self.choices)}, got {value!r}")
            return value
        if self.kind == "bool":
            if not isinstance(value, bool):
                raise bad(f"expected true or false, got {value!r}")
            return value
        if self.kind == "month":
            m = _MONTH.fullmatch(value) if isinstance(value, str) else None
            if m is None or not (1 <= int(m.group(2)) <= 12 and 1900 <= int(m.group(1)) <= 2200):
                raise bad(f"expected a month 'YYYY-MM' such as '2021-01', got {value!r}")
            return value
        if self.kind == "list[str]":
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise bad(f"expected a list of {self.what}s, got {value!r}")
            unknown = [v for v in value if self.choices and v not in self.choices]
            if unknown:
                raise bad(unknown_name_message(unknown[0], self.choices, self.what, full_list=True))
            if len(value) < self.min_items:
                raise bad(f"expected at least {self.min_items} {self.what}(s), got {list(value)!r}")
            if len(set(value)) != len(value):
                raise bad(f"a {self.what} is listed twice in {list(value)!r}")
            return list(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise bad(f"expected a number ({self.unit}) in [{self.low}, {self.high}], got {value!r}")
        if not math.isfinite(value):
            raise bad(f"expected a finite number, got {value!r}")
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise bad(f"expected an integer, got {value!r}")
                value = int(value)
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ParameterError(
                f"{head} = {value!r} is out of range: valid range is [{self.low}, {self.high}] {self.unit}", self.name
            )
        return int(value) if self.kind == "int" else float(value)


def _p(name: str, default: Any, low: float | None, high: float | None, unit: str, label: str,
       source: str, group: str, kind: str = "float", choices: tuple[str, ...] = ()) -> Param:
    return Param(name, default, low, high, unit, label, source, group, kind, choices)


_PARAMS: list[Param] = [
    # ---- facilitator time budget -------------------------------------------------
    _p("hours_per_month", 160.0, 80, 220, "h/month", "Contract hours per facilitator",
       "[A] 160-176 h/month of a full-time contract; low end", "time"),
    _p("leave_share", 0.11, 0, 0.3, "fraction", "Time lost to public holidays and annual leave",
       "[D] 16 public holidays + 12 days' annual leave of ~255 working days; available working "
       "time as in WHO 2010 (WISN manual, step 1)", "time"),
    _p("support_share", 0.10, 0, 0.4, "fraction", "Time on coordination, meetings and courses",
       "[A] WISN category allowance: support activities done by every facilitator (WHO 2010, step 4)",
       "time"),
    _p("admin_min_per_family_month", 20.0, 0, 120, "min/family/month",
       "Data entry per family (e-PKH, SIKS-NG)",
       "[A] calibrate; digital workload of e-PKH and SIKS-NG (Levianto & Warsidi 2025); admin took "
       "50-80% of child-welfare caseworkers' time (GAO 2003) [S]", "time"),
    _p("digital_skill_admin_saving", 0.4, 0, 0.9, "fraction",
       "Admin time saved at full technical skill", "[A]", "time"),
    _p("group_size_families", 25, 5, 60, "families/group", "P2K2 group size",
       "[S, low confidence] 80 KPM in 3 P2K2 groups, about 27 each (ISNU Ponorogo 2023; one observation)", "time", "int"),
    _p("group_session_h", 2.0, 0, 8, "h/group/month", "P2K2 session time per group",
       "[A]; P2K2 groups meet monthly (Garuda P2K2 2024) [S]", "time"),
    _p("visit_h", 0.75, 0.25, 3, "h/visit", "Home visit time including notes",
       "[A] 0.75-1.5 h including notes; low end", "time"),
    _p("travel_scale", 1.0, 0.25, 3, "x", "Multiplier on district travel time per visit",
       "[A] district travel minutes are a documented rule, sim/data/README.md", "time"),
    _p("visits_target_per_family_month", 1 / 3, 0.05, 4, "visits/family/month",
       "Target home visits per family per month",
       "[A] one home visit per family per quarter, the cycle of PKH commitment verification "
       "(Permensos 1/2018) [S]; no required visit frequency was found. With the default time budget a "
       "facilitator can meet it for about 175 families (load ratio 1)", "time"),
    _p("max_visits_per_family_month", 3, 1, 8, "visits/family/month",
       "Most home visits one family can get in a month", "[A]", "time", "int"),
    _p("absence_per_burnout", 0.1, 0, 0.5, "fraction at B=1", "Hours lost to absence at full burnout",
       "[A] anchored to long-term sickness absence, OR 1.72-2.23 per exhaustion point (S-MGA)", "time"),
    _p("productivity_loss_per_burnout", 0.2, 0, 0.5, "fraction at B=1",
       "Output per hour lost at full burnout", "[A] accomplishments per hour fall with energy (Homer 1985)", "time"),
    # ---- time allocation, spare time and admin backlog (sim/processes/timebudget.py) ----
    _p("admin_weight_admin_speed", 3.0, 1, 10, "x contact", "Priority of admin over contact when time is short "
       "(evaluation on reporting speed)",
       "[A] ratio of the share of admin done to the share of home visits and P2K2 done; above 1 because "
       "evaluation rewards e-PKH input speed (Levianto & Warsidi 2025, section 4) and performance-based "
       "incentives shift effort to the rewarded task (Gadsden et al. 2021) [S qualitative]", "time"),
    _p("admin_weight_social_outcome", 1.5, 0.25, 10, "x contact", "Priority of admin over contact when time "
       "is short (evaluation on social outcomes)",
       "[A] lower than under reporting-speed evaluation (Gadsden et al. 2021) but above 1: payments still "
       "depend on the data (Levianto & Warsidi 2025, section 4)", "time"),
    _p("visit_floor_share", 0.2, 0, 0.6, "fraction of hours", "Share of hours kept for home (verification) visits",
       "[A] the low end of direct-service time: case managers spend 20-35% of their time in direct "
       "services (CHS Florida 2018); administrative work took 50-80% of child-welfare caseworkers' "
       "time (GAO 2003) [S]", "time"),
    _p("visits_saturation_per_family_month", 1.0, 0.05, 4, "visits/family/month",
       "Visit rate that spare time approaches (diminishing returns)",
       "[A] one visit a month, the rhythm of P2K2 sessions (Garuda P2K2 2024); 2+ visits a month are "
       "needed for a substantive effect of home visiting (Nievar et al. 2010) [S]", "time"),
    _p("backlog_max_months", 3.0, 0.5, 12, "months", "Age at which unentered admin is written off",
       "[A] one verification quarter: the education commitment is verified per quarter "
       "(Permensos 1/2018) and PKH is paid in quarterly tranches (Rancak Media 2021) [S]", "time"),
    _p("verification_admin_share", 0.25, 0.02, 1, "fraction of admin", "Share of admin that payments depend on",
       "[A] commitment verification and disbursement data, entered first; about 2 of the 9 report lines "
       "of a PKH facilitator's performance plan (facilitators' report templates; low confidence)", "time"),
    _p("payment_arrears_max_months", 3, 0, 12, "months", "Withheld PKH months paid late once the data is in",
       "[A] up to one quarterly tranche (Rancak Media 2021) is paid late; older withheld months are "
       "lost. No rule for late payment after late verification was found", "time", "int"),
    # ---- visit quality -------------------------------------------------------------
    _p("quality_burnout_penalty", 0.25, 0, 0.6, "fraction at B=1", "Visit quality lost at full burnout",
       "[D] burnout-quality r = -0.26 (-0.29 to -0.23) (Salyers et al. 2017)", "quality"),
    _p("quality_time_exponent", 0.5, 0, 2, "-", "Quality elasticity to time per visit",
       "[A] diminishing returns to time per visit", "quality"),
    _p("local_closeness_bonus", 0.15, 0, 0.5, "fraction", "Quality bonus of a locally recruited facilitator",
       "[A] social closeness improves facilitation (Putri & Anshori 2021, via Levianto & Warsidi 2025)", "quality"),
    _p("supervision_quality_bonus", 0.1, 0, 0.3, "fraction at full support",
       "Quality bonus from supervision", "[S] routine supervision +10.7 pp on practice (Rowe et al. 2022)", "quality"),
    _p("outcome_evaluation_quality_bonus", 0.1, 0, 0.5, "fraction",
       "Quality bonus when evaluation rewards social outcomes",
       "[A] Levianto & Warsidi 2025, recommendation 3; incentives shift effort to rewarded tasks "
       "(Gadsden et al. 2021) [S]",
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
       "[A] 0.02-0.05/month", "families"),
    _p("compliance_base", 0.80, 0, 1, "probability", "Base chance of meeting PKH conditions",
       "[A] calibrate", "families"),
    _p("compliance_monitoring_effect", 0.08, 0, 0.3, "probability",
       "Compliance gain from recent monitoring (a visit)",
       "[A] 0.05-0.10; Schady & Araujo 2008 perceived conditionality [S qualitative]", "families"),
    _p("compliance_behaviour_effect", 0.15, 0, 0.5, "probability at K=1",
       "Compliance gain from education and health behaviour", "[A]", "families"),
    _p("monitoring_memory_months", 3.0, 0.5, 12, "months", "How long a visit is felt as monitoring",
       "[A]; education commitment verified quarterly (Permensos 1/2018) [S]", "families"),
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
       "[D] component amounts Rp0.9-3.0m per person a year (Rancak Media 2021), at most four "
       "components a family (Mochferry 2021, low confidence)", "families"),
    _p("sembako_transfer_rp_family_month", 200000.0, 0, 1000000, "Rp/family/month",
       "Sembako / BPNT benefit", "[S] Rp200k from March 2020 (Republika 2020)", "families"),
    _p("graduation_threshold", 1.5, 1, 4, "x poverty line", "Consumption needed to graduate",
       "[A] 'graduasi sejahtera mandiri' has no published threshold", "families"),
    _p("graduation_months", 6, 1, 36, "months", "Months above threshold before graduation",
       "[A]", "families", "int"),
    _p("graduation_assessment_prob", 0.5, 0, 1, "/visited month",
       "Chance that a month with a home visit to an eligible family ends in graduation",
       "[A] calibrated: about 3.3% of families graduate a year after the first years (paper-2023, "
       "scale 0.25, seed 2), against 3.4% independent graduations nationally in 2020 (Kemensos 2020)", "families"),
    _p("natural_exit_rate_year", 0.084, 0, 0.5, "/year", "Exits other than graduation",
       "[D] 837,531 natural exits of ~10m families in 2020 (Kemensos 2020)", "families"),
    _p("population_growth_year", 0.032, 0, 0.1, "/year", "Regency population growth",
       "[D] BPS: 202,700/5.21% (2021) -> 204,100/4.93% (2023) gives 3.89m -> 4.14m", "families"),
    _p("nonkpm_poor_trend_year", -0.03, -0.3, 0.3, "log/year",
       "Trend of the poor outside KPM, relative to population", "[A] calibrate to BPS", "families"),
    # ---- burnout -------------------------------------------------------------------------
    _p("burnout_base", 0.02, 0, 0.1, "/month", "Baseline burnout from emotional labour",
       "[A] 0.01-0.05/month; emotional labour of the job", "burnout"),
    _p("burnout_overload", 0.4, 0, 1.5, "/month", "Burnout from load above the threshold",
       "[A] 0.2-0.8/month; calibrate to about 20% burned out, the pooled MBI prevalence among "
       "social-services workers (J Soc Serv Res 2024)", "burnout"),
    _p("burnout_threshold", 1.0, 0.5, 1.5, "load ratio", "Load ratio where overload starts",
       "[A] threshold form: odds ratios 4.1-6.9 above the standard caseload (Kim et al. 2019)", "burnout"),
    _p("burnout_convexity", 1.5, 1, 3, "-", "Convexity of overload", "[A] queueing: delays grow convexly with load",
       "burnout"),
    _p("burnout_recovery_months", 3.0, 0.5, 12, "months", "Recovery time constant", "[A] 1-6 months",
       "burnout"),
    _p("burnout_hysteresis", 2.0, 0, 5, "-", "Slower recovery when deeply burned out",
       "[A] the deeper the burnout the slower the recovery (Homer 1985; Levine et al. 1985)", "burnout"),
    # ---- burnout: individual variation (sim/processes/workforce.py) ---------------------------
    # Without it burnout depends only on the load, so every facilitator at the same caseload
    # has the same burnout and none is burned out at 1:150, against a pooled 20% (95% CI
    # 13-27%) MBI burnout prevalence among social-service social workers (J Soc Serv Res 2024,
    # docs/REFERENCES.md).
    _p("burnout_susceptibility_sd", 0.6, 0, 1.5, "log s.d.",
       "Spread of individual susceptibility to burnout",
       "[A] each facilitator's burnout increment is multiplied by a lognormal factor with mean 1 "
       "and this log s.d.: personality explains a sizeable share of exhaustion (neuroticism "
       "rho = 0.40 with emotional exhaustion, Alarcon et al. 2009), i.e. about 16% of its variance; "
       "prevalence target 20% (13-27%) at usual loads, J Soc Serv Res 2024", "burnout"),
    _p("burnout_threshold_sd", 0.15, 0, 0.4, "load ratio",
       "Spread of the load at which individual overload starts",
       "[A] individual overload thresholds ~ normal(burnout_threshold, this s.d.), clipped to "
       "[0.5, 1.5]: job demands are felt differently (job demands-resources model, Bakker & "
       "Demerouti 2007); no figure found", "burnout"),
    _p("burnout_recovery_sd", 0.4, 0, 1.5, "log s.d.",
       "Spread of individual recovery time from burnout",
       "[A] each facilitator's recovery time constant is multiplied by a lognormal factor with "
       "mean 1 and this log s.d.: recovery after work strain varies widely between people "
       "(Sonnentag & Fritz 2007); no figure found", "burnout"),
    _p("supervision_ratio", 70.0, 3, 300, "facilitators/supervisor", "Facilitators per supervisor",
       "[D] the baseline (no lever): 2018, 34,552 pendamping, 531 district coordinators and 408 "
       "supervisors (Detik 2018): 1:37-1:85, about 1:70", "burnout"),
    _p("supervision_good_ratio", 10.0, 3, 50, "facilitators/supervisor",
       "Ratio at which supervision gives full support", "[A] one supervisor to five caseworkers (CWLA 2004) [S]; coordinators are wider", "burnout"),
    _p("supervision_resource_max", 0.6, 0, 2, "R", "Support resources at full supervision",
       "[A] job demands-resources form 1/(1 + R) (Evers et al.)", "burnout"),
    _p("psychosocial_buffer", 0.5, 0, 2, "R at S=1", "Support resources from psychosocial skill", "[A]",
       "burnout"),
    # ---- skills and training ---------------------------------------------------------------
    _p("initial_skill_mean", 0.55, 0, 1, "0-1", "Mean skill of serving facilitators at start", "[A]", "skills"),
    _p("new_hire_skill", 0.35, 0, 1, "0-1", "Skill of a new hire", "[A]", "skills"),
    _p("skill_floor", 0.3, 0, 1, "0-1", "Skill level that decay tends to", "[A]", "skills"),
    _p("skill_decay_month", 0.063, 0, 0.3, "/month", "Decay of trained skill without use",
       "[D] ln 2 / 11: half of a gain lost in 11 months for mixed tasks (Tatel & Ackerman)", "skills"),
    _p("skill_use_slowdown", 0.5, 0, 1, "-", "How much regular practice slows decay",
       "[A] regular practice slows decay (Ameh et al. 2018)", "skills"),
    _p("experience_gain_month", 0.005, 0, 0.05, "/month", "Skill learned on the job each month", "[A]",
       "skills"),
    _p("training_prob_month", 0.045, 0, 1, "/month", "Chance of an advanced course each month",
       "[D] calibrated to 41% without advanced training since 2021 (Levianto & Warsidi 2025, citing "
       "a Kemensos survey of 2023): 0.045 gives 0.42 at January 2023 (paper-2023, scale 0.5, seeds 1-3; new hires count "
       "as untrained); without turnover 1 - 0.41^(1/24) = 0.037", "skills"),
    _p("training_gain_technical", 0.15, 0, 0.6, "fraction of gap", "Technical skill gain of a course",
       "[D] in-service training +7.3 pp at S~0.5 (Rowe et al. 2021)", "skills"),
    _p("training_gain_psychosocial", 0.15, 0, 0.6, "fraction of gap", "Psychosocial skill gain of a course",
       "[D] as technical (Rowe et al. 2021)", "skills"),
    _p("training_cost_rp", 5000000.0, 0, 50000000, "Rp/course", "Cost of one advanced course",
       "[A] a 10-day residential course at BBPPKS Bandung (Nuwobalak 2019); price not found", "skills"),
    # ---- pay, motivation and attrition ------------------------------------------------------
    _p("incentive_rp_month", 3150000.0, 1000000, 15000000, "Rp/month", "Facilitator incentive (pay)",
       "[S] Rp3.1-3.2m a month, midpoint (Levianto & Warsidi 2025, section 4)", "pay"),
    _p("operational_rp_month", 125000.0, 0, 2000000, "Rp/month", "Operational allowance",
       "[D] Rp500k every four months (RMOL Jateng 2023)", "pay"),
    _p("reference_pay_rp_month", 4000000.0, 1000000, 20000000, "Rp/month",
       "Pay seen as fair for a full load (outside option)", "[A] calibrate; pay as a hygiene factor (Herzberg 1959, via Levianto & Warsidi 2025)",
       "pay"),
    _p("supervisor_cost_rp_month", 4500000.0, 0, 30000000, "Rp/month", "Cost of one supervisor", "[A]", "pay"),
    _p("motivation_adjust_months", 6.0, 1, 24, "months", "How fast motivation follows fairness", "[A]", "pay"),
    _p("motivation_quality_weight", 0.3, 0, 1, "fraction", "Quality lost at zero motivation", "[A]", "pay"),
    _p("quit_base_year", 0.05, 0, 0.6, "/year", "Quit rate of a rested, fairly paid facilitator",
       "[A] low end of paid caseworkers' 20-40% a year once burnout, pay and refresher multipliers "
       "apply (GAO 2003); no attrition rate for pendamping was found", "pay"),
    _p("quit_burnout_beta", 0.9, 0, 3, "log-hazard at B=1", "Quit hazard rise with burnout",
       "[D] ln 1.57 / 0.5: OR 1.57 for burnout (Willard-Grace et al. 2019) over a mean gap of 0.5", "pay"),
    _p("quit_pay_elasticity", 1.25, 0, 3, "-", "Quit elasticity to pay below the reference",
       "[S] supply elasticity about 1.25 (Falch 2011)", "pay"),
    _p("quit_no_refresher_mult", 1.3, 1, 4, "x", "Quit multiplier without a course in 12 months",
       "[A] below the case-control OR 4.0 without refresher training (Ngugi et al. 2018), likely inflated", "pay"),
    _p("contract_nonrenewal_prob", 0.03, 0, 0.5, "/year", "Contracts not renewed at the yearly review",
       "[A]; contracts are yearly (Levianto & Warsidi 2025) [S]", "pay"),
    _p("recruitment_lag_months", 8, 0, 36, "months", "Months a vacant post stays empty",
       "[S, low confidence] a post vacant about 8 months (Radar Bromo 2019)", "pay", "int"),
    _p("local_share_initial", 0.3, 0, 1, "fraction", "Share of facilitators placed in their home area",
       "[A] placement ignores local ties (Levianto & Warsidi 2025)", "pay"),
    _p("local_share_hires", 0.3, 0, 1, "fraction", "Share of new hires placed in their home area",
       "[A] the baseline (no lever): open selection on the ministry portal (Levianto & Warsidi 2025)", "pay"),
    # no "management" group any more: the evaluation scheme is the lever outcome_evaluation
    # (off = admin speed, the status quo) and the 1:150 reporting line is IDEAL_CASELOAD.
]

#: The programme's ideal caseload, families per facilitator: the reporting line of the
#: indicator share_fac_over_cap and the line above which local government funds posts
#: (lever local_redistribution). Not a model parameter: it changes no dynamics, and the
#: cap a policy hires to is the lever setting ``caseload_cap.cap``.
#: [S] Levianto & Warsidi (2025), recommendation 1 (Kemensos ideal ratio 1:150).
IDEAL_CASELOAD = 150

# ---- policy lever settings ("lever.setting"; a lever is off unless a scenario names it) -----
# A lever setting is what the lever sets while it is on; the model parameter of the same
# quantity (supervision_ratio, local_share_hires) is the baseline, used when it is off.

_DISTRICT_NAMES = district_names()
_MODULES: tuple[str, ...] = ("technical", "psychosocial")


def _s(lever: str, key: str, default: Any, low: float | None, high: float | None, unit: str, label: str,
       source: str, kind: str = "float", choices: tuple[str, ...] = (), what: str = "name",
       min_items: int = 0) -> Param:
    return Param(f"{lever}.{key}", default, low, high, unit, label, source, lever, kind, choices, lever,
                 what=what, min_items=min_items)


_SETTINGS: list[Param] = [
    # supervision: paper recommendation 5 (part)
    _s("supervision", "ratio", 20.0, 3, 300, "facilitators/supervisor",
       "Facilitators per supervisor while the lever is on",
       "[A] between the programme's 1:70 (supervision_ratio, Detik 2018) and the 1:5 the CWLA "
       "recommends for child-welfare caseworkers (CWLA 2004) [S]"),
    # regional_incentive: paper recommendation 4
    _s("regional_incentive", "multiplier", 1.3, 1.0, 3.0, "x base pay", "Pay multiplier in the targeted kecamatan",
       "[A] +30% lifts Rp3.15m (Levianto & Warsidi 2025) to about the Rp4.0m reference pay; a 10% cut of a "
       "regional premium raised teachers' quits by about 6 points (Falch 2011, p. 463) [S]"),
    _s("regional_incentive", "districts", (), None, None, "kecamatan names",
       "Kecamatan given the differential (besides the flagged ones)",
       "[A] user's choice; the paper (Levianto & Warsidi 2025) names none",
       kind="list[str]", choices=_DISTRICT_NAMES, what="district"),
    _s("regional_incentive", "vulnerable", True, None, None, "-",
       "Include the kecamatan the profile flags as vulnerable",
       "[S] Muaragembong: coastal abrasion and tidal flooding (sources in sim/data/README.md)", kind="bool"),
    _s("regional_incentive", "remoteness_min", 1.0, 0.0, 1.0, "0-1 score", "Include kecamatan at least this remote",
       "[A] remoteness score of sim/districts.py; 1.0 = only the most remote"),
    # local_redistribution: paper recommendation 5 and its finding on placement
    _s("local_redistribution", "every_months", 6, 1, 36, "months", "Months between redistribution rounds",
       "[A] periodic redistribution, 'secara berkala' (Levianto & Warsidi 2025); twice a year", kind="int"),
    _s("local_redistribution", "max_moves", 20, 0, 500, "facilitators/round (whole regency)",
       "Most facilitators moved in a round",
       "[A] about 6% of the 354 facilitators (Levianto & Warsidi 2025) a round", kind="int"),
    _s("local_redistribution", "min_per_district", 1, 1, 20, "facilitators", "Facilitators a kecamatan keeps at least",
       "[A] facilitators serve every kecamatan (Levianto & Warsidi 2025)", kind="int"),
    _s("local_redistribution", "donor_max_caseload", 0, 0, 1000, "families/facilitator",
       "Most families per facilitator a donor kecamatan may reach (0 = no limit)",
       "[A] 0: equalise; e.g. 150 moves only facilitators a kecamatan can spare under 1:150", kind="int"),
    _s("local_redistribution", "reassign_vacancies", True, None, None, "-",
       "Re-advertise vacant posts where the need is highest",
       "[A] needs-based planning with local government (Levianto & Warsidi 2025)", kind="bool"),
    _s("local_redistribution", "local_hiring_share", 0.6, 0.0, 1.0, "fraction",
       "Share of new hires placed in their home area while the lever is on",
       "[A] placement should weigh social closeness (Putri & Anshori 2021, via Levianto & Warsidi 2025); "
       "the baseline is local_share_hires"),
    _s("local_redistribution", "local_hires_per_year", 0.0, 0, 1000, "posts/year (whole regency)",
       "Posts funded by the regency budget (APBD) each year", "[A] no figure found; 0 = none"),
    # caseload_cap: paper recommendation 1
    _s("caseload_cap", "cap", 150, 50, 400, "families/facilitator", "Most families per facilitator",
       "[S] Kemensos ideal ratio 1:150 (Levianto & Warsidi 2025, recommendation 1)", kind="int"),
    _s("caseload_cap", "hires_per_month", 30.0, 0, 1000, "posts/month (whole regency)",
       "New posts opened per month at most",
       "[A] about 10% of the 2023 workforce of 354 a month; open selection on the ministry portal "
       "(Levianto & Warsidi 2025)"),
    _s("caseload_cap", "budget_rp_year", 0.0, 0, 1e13, "Rp/year (whole regency)",
       "Yearly budget for the extra posts (0 = no limit)",
       "[A] policy choice; one post costs about Rp40m a year (pay Rp3.15m, Levianto & Warsidi 2025; "
       "operational Rp125k, RMOL Jateng 2023; supervisor share, a month)"),
    _s("caseload_cap", "lag_months", -1, -1, 36, "months",
       "Months from opening a post to filling it (-1 = recruitment_lag_months)",
       "[A] -1 uses the model's recruitment lag (about 8 months, Radar Bromo 2019)", kind="int"),
    _s("caseload_cap", "vacancy_buffer", 0.10, 0, 0.5, "fraction", "Posts planned above families / cap to cover vacancies",
       "[D] vacancy share ~ leaving rate x lag: ~13%/year x 8/12 year = 9%"),
    # training_platform: paper recommendation 2
    _s("training_platform", "coverage_per_month", 1.0 / 6.0, 0.0, 1.0, "/month",
       "Chance a facilitator completes a course each month",
       "[A] one certified module every six months, so everyone has a refresher within a year; an online "
       "course took 4 weeks in 2019 (Harapan Rakyat 2019)"),
    _s("training_platform", "elearning_gain_ratio", 0.9, 0.0, 1.5, "x face-to-face gain",
       "Gain of an online course relative to a classroom one",
       "[D] internet vs non-internet instruction, pooled d 0.09-0.12 (Cook et al. 2008, Table 3)"),
    _s("training_platform", "cost_rp_per_course", 500000.0, 0, 50000000, "Rp/course",
       "Cost of one online course per participant", "[A] a tenth of a residential course (training_cost_rp); price not found"),
    _s("training_platform", "fixed_cost_rp_year", 0.0, 0, 1e12, "Rp/year (whole regency)",
       "Platform running cost charged to the regency",
       "[A] built and run nationally by Kemensos; 0 = not charged to Kabupaten Bekasi"),
    _s("training_platform", "modules", _MODULES, None, None, "-", "Modules offered",
       "[S] technical skills and soft (psychosocial) skills (Levianto & Warsidi 2025, recommendation 2)",
       kind="list[str]", choices=_MODULES, what="module", min_items=1),
    # outcome_evaluation: paper recommendation 3
    _s("outcome_evaluation", "graduation_push", 1.2, 1.0, 3.0, "x",
       "Multiplier on the chance that a visited eligible family graduates",
       "[A] graduation becomes a rewarded outcome (programme KPI: 10% of the caseload a year, Kemensos 2020 [S]); "
       "performance-based incentives raise the rewarded output (Gadsden et al. 2021) [S]"),
    _s("outcome_evaluation", "admin_factor", 1.0, 0.3, 1.5, "x", "Multiplier on admin (data entry) time",
       "[A] 1 = reporting still needed; below 1 to test less time on reporting speed"),
]

# ---- structural inputs of a run (not parameters of the model's equations) -----------------
STRUCTURAL: dict[str, Param] = {
    p.name: p for p in (
        Param("seed", 20210101, 0, 2**63 - 1, "-", "Random seed of the run (one per run, recorded in every output)",
              "[A] run setting", "run", "int"),
        Param("months", 36, 1, 600, "months", "Months to simulate", "[A] run setting; 600 = 50 years", "run", "int"),
        # The share of KPM families simulated, each standing for 1 / scale families;
        # facilitators are never scaled (docs/ODD.md 2.5). At least 0.05: a few thousand
        # families, and every kecamatan keeps at least one (sim/profiles.py).
        Param("scale", 1.0, 0.05, 2.0, "x full population", "Share of the families simulated (facilitators never scaled)",
              "[A] run setting; regency indicators at 0.25 are within 5% of full scale (benchmarks/scale_check.py)", "run"),
        Param("start", "2021-01", None, None, "YYYY-MM", "First simulated month",
              "[S] January 2021, the first year of the paper's figures (Levianto & Warsidi 2025)", "run", "month"),
    )
}


def check_structural(name: str, value: Any, where: str = "") -> Any:
    """Check a structural input (seed, months, scale, start) in the one place that does it.

    Returns the value as its Python type; raises ParameterError naming ``where`` and the input.
    """
    spec = STRUCTURAL.get(name)
    if spec is None:
        raise ParameterError(unknown_name_message(name, STRUCTURAL, "run setting"), name)
    try:
        return spec.check(value)
    except ParameterError as e:  # "parameter 'months' = 0 ..." -> "--months = 0 ...", "where: months = 0 ..."
        label = where if where.startswith("--") else (f"{where}: {name}" if where else name)
        raise ParameterError(str(e).replace(f"parameter '{name}'", label, 1), name) from None


PARAMS: dict[str, Param] = {p.name: p for p in (*_PARAMS, *_SETTINGS)}
MODEL_PARAMS: tuple[str, ...] = tuple(p.name for p in _PARAMS)
LEVERS: tuple[str, ...] = tuple(dict.fromkeys(p.lever for p in _SETTINGS if p.lever))
#: groups of model parameters, then one group per lever (named after it)
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(p.group for p in PARAMS.values()))


#: Parameters that existed twice (a model parameter and a lever setting) and where their
#: meaning went, for the error message an old scenario file or script gets.
REMOVED: dict[str, str] = {
    "evaluation_scheme": "evaluation on social outcomes is the lever 'outcome_evaluation' ([policies.outcome_evaluation]); "
                         "without it facilitators are evaluated on admin speed",
    "ideal_caseload": "the cap a policy hires to is caseload_cap.cap (lever 'caseload_cap'); the 1:150 reporting line "
                      "is fixed (sim.params.IDEAL_CASELOAD)",
}


def lever_settings(lever: str) -> dict[str, Param]:
    """The settings of ``lever``, keyed by their name within it (``cap`` for ``caseload_cap.cap``)."""
    return {p.key: p for p in _SETTINGS if p.lever == lever}


def defaults() -> dict[str, Any]:
    """Return a fresh dict of every model parameter's default value (lever settings not included)."""
    return {name: PARAMS[name].default for name in MODEL_PARAMS}


def _plural(word: str) -> str:
    return word[:-1] + "ies" if word.endswith("y") and word[-2:-1] not in "aeiou" else word + "s"


def unknown_name_message(name: str, valid: list[str] | tuple[str, ...] | Mapping[str, Any], what: str = "parameter",
                         full_list: bool | None = None, of: str = "") -> str:
    """Say that ``name`` is unknown and suggest the 3 closest valid names.

    Parameters and lever settings are too many to list: the message points to
    ``caseload params``; short sets (keys, districts, profiles) are listed in full.
    ``of`` places the name (``of="of lever 'caseload_cap'"``).
    """
    where = f" {of}" if of else ""
    names = sorted(valid)
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if full_list is None:
        full_list = what not in ("parameter", "setting")
    if full_list:
        return f"unknown {what} '{name}'{where}.{hint} Valid {_plural(what)}: {', '.join(names)}"
    return f"unknown {what} '{name}'{where}.{hint} Run `caseload params` to list them all."


def split(overrides: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Split overrides into model parameters and lever settings ``{lever: {setting: value}}``."""
    model: dict[str, Any] = {}
    levers: dict[str, dict[str, Any]] = {}
    for name, value in overrides.items():
        spec = PARAMS.get(name)
        if spec is not None and spec.lever:
            levers.setdefault(spec.lever, {})[spec.key] = value
        else:
            model[name] = value
    return model, levers


def validate(overrides: Mapping[str, Any], where: str = "") -> dict[str, Any]:
    """Return the model parameter set: defaults updated with checked ``overrides``.

    ``overrides`` may also hold lever settings by their dotted names (``caseload_cap.cap``):
    they are checked by the same rule and returned under those names (the model parameters
    never include them; runs.runner hands them to their lever). Raises ParameterError naming
    the key, the valid range and, for an unknown name, the closest valid names.
    """
    values = defaults()
    for name, value in overrides.items():
        spec = PARAMS.get(name)
        if spec is None:
            at = f"{where}: " if where else ""
            if name in REMOVED:
                raise ParameterError(f"{at}parameter '{name}' was removed: {REMOVED[name]}", name)
            raise ParameterError(at + unknown_name_message(str(name), PARAMS), str(name))
        values[name] = spec.check(value, where)
    return values


def table() -> list[dict[str, Any]]:
    """Rows describing every model parameter and lever setting, for docs, manifests and the UI."""
    return [
        {"name": p.name, "group": p.group, "default": list(p.default) if p.kind == "list[str]" else p.default,
         "low": p.low, "high": p.high, "unit": p.unit, "label": p.label, "source": p.source, "kind": p.kind,
         "choices": list(p.choices), "lever": p.lever, "tag": p.tag}
        for p in PARAMS.values()
    ]
