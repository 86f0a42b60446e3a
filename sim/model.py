"""CaseloadModel: social facilitators and KPM families across the 23 kecamatan of Kabupaten Bekasi.

One step is one calendar month. ``step()`` runs the phases of sim.processes in order:
staffing -> time budget -> visits -> families -> workforce -> cost -> record; a policy lever acts
at its slot, just before or just after the phase it names (never next to cost or record), and
changes the model only through the lever surface (sim.surface) and the model's operations.
State lives in numpy columns (sim.state); Facilitator and Family Mesa agents are handles
onto those rows (sim.agents). The operations that change who is in the programme and who
holds which post (enrol, remove, open, vacate, hire, rebalance) live in sim.population,
below the phases: this module builds the initial state and wires the month.

The constructor takes flat keyword arguments, so Mesa's SolaraViz and ``mesa.batch_run``
can build it: ``CaseloadModel(profile="paper-2023", scale=0.1, rng=42, incentive_rp_month=4e6)``.
Every keyword beyond the structural ones is a model parameter of sim.params (validated: an
unknown name or a value out of range raises ParameterError naming it and the valid range).
The structural inputs (seed, scale, start) are checked by sim.params.check_structural.
Lever settings are not keywords: they belong to the lever objects in ``policies``.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

import mesa
import numpy as np
import pandas as pd

from sim import invariants, metrics, params, population, warmup
from sim.agents import Facilitator, Family
from sim.invariants import InvariantError as InvariantError  # re-exported
from sim.processes import PHASES, cost, families, staffing, timebudget, visits, workforce
from sim.profiles import Profile, load_profile
from sim.rng import Streams
from sim.state import FamilyState, PostState
from sim.surface import LeverSurface


class Policy(Protocol):
    """A policy lever: acts on the model every month at its slot, ``when`` (before/after) ``phase``."""

    @property
    def name(self) -> str:
        """The lever's registry name."""

    @property
    def phase(self) -> str:
        """The phase of sim.processes.PHASES it acts next to (not ``record``)."""

    @property
    def when(self) -> str:
        """'before' or 'after' the phase."""

    def setup(self, model: CaseloadModel) -> None:
        """Called once, after the initial state is built."""

    def apply(self, model: CaseloadModel) -> None:
        """Called every month at the lever's slot."""


@dataclass(frozen=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Month:
        """Parse 'YYYY-MM' (checked by sim.params.check_structural)."""
        y, m = (int(x) for x in params.check_structural("start", text).split("-"))
        return cls(y, m)

    def plus(self, months: int) -> Month:
        """The month ``months`` later."""
        k = self.year * 12 + (self.month - 1) + months
        return Month(k // 12, k % 12 + 1)

    def as_date(self) -> date:
        """First day of the month."""
        return date(self.year, self.month, 1)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"


#: constructor keywords that are not model parameters (their bounds: sim.params.STRUCTURAL)
STRUCTURAL = ("profile", "scale", "start", "policies", "check_invariants", "rng")


def _reporter(key: str, model: CaseloadModel) -> Any:
    return model.last_regency[key]


class CaseloadModel(mesa.Model):
    """Facilitators and beneficiary families (KPM) of PKH and Sembako in Kabupaten Bekasi.

    Args:
        profile: data profile, ``"paper-2023"`` (the paper's picture, default) or ``"official"``.
        scale: share of the KPM families to simulate (0.05 <= scale <= 2); each simulated family
            stands for ``family_weight`` = 1 / scale families. Facilitators are never scaled.
        start: first simulated month, ``"YYYY-MM"`` (default January 2021).
        policies: policy levers (sim.policies) switched on, with their settings; none by default.
        check_invariants: check conservation and bounds after every step (tests).
        rng: seed (int) or None for a fresh seed; the seed is kept in ``model.seed``.
        **overrides: any model parameter of sim.params (not a lever setting).

    """

    def __init__(
        self,
        profile: str = "paper-2023",
        scale: float = 1.0,
        start: str = "2021-01",
        policies: Sequence[Policy] | None = None,
        check_invariants: bool = False,
        rng: int | None = None,
        **overrides: Any,
    ) -> None:
        if rng is None:
            rng = int(np.random.SeedSequence().generate_state(2, dtype=np.uint64)[0] >> np.uint64(1))  # fresh, then recorded
        seed = params.check_structural("seed", rng, "rng")
        super().__init__(rng=seed)
        self.seed = seed
        self.streams = Streams(self.seed)
        settings = [k for k in overrides if k in params.PARAMS and params.PARAMS[k].lever]
        if settings:
            raise params.ParameterError(
                f"'{settings[0]}' is a lever setting, not a model parameter: give it to the lever "
                "(a scenario's [policies] table, or run_scenario(..., overrides=...))", settings[0])
        self.p: dict[str, Any] = params.validate(overrides)
        self.overrides = dict(overrides)
        self.scale = params.check_structural("scale", scale)
        #: families each simulated family stands for (docs/ODD.md 2.5)
        self.family_weight = 1.0 / self.scale
        self.start = Month.parse(start)
        self.profile_name = profile
        self.profile: Profile = load_profile(profile, scale=self.scale, household_size=self.p["household_size"],
                                             start_year=self.start.year)
        self.check = bool(check_invariants)
        self.policies: list[Policy] = list(policies or [])
        # not next to cost or record: a lever's cost must be booked by the cost phase, after it
        slots = [ph for ph in PHASES if ph not in ("cost", "record")]
        for pol in self.policies:
            if pol.phase not in slots or pol.when not in ("before", "after"):
                raise params.ParameterError(
                    f"policy '{pol.name}': acts {pol.when!r} {pol.phase!r}; a lever acts 'before' or 'after' "
                    f"one of {slots}", pol.name)
        # levers in slot order, fixed for the run
        self._slots: dict[tuple[str, str], list[Policy]] = {
            (when, ph): [pol for pol in self.policies if pol.phase == ph and pol.when == when]
            for ph in PHASES for when in ("before", "after")
        }

        d = self.profile.districts
        self.n_districts = len(d)
        self.district_codes: list[str] = list(d["code"])
        self.district_names: list[str] = list(d["name"])
        self.travel_min = d["travel_min_per_visit"].to_numpy(dtype=np.float64)
        self.vulnerable = d["vulnerable"].to_numpy(dtype=bool)
        self.remoteness = d["remoteness"].to_numpy(dtype=np.float64)

        # what policy levers may change (sim.surface); the baseline until a lever acts
        self.surface = LeverSurface.baseline(self.n_districts, self.p)

        self._derive()
        self._counters()
        # Family handle per row, None if free. A list, not an object ndarray: numpy arrays are
        # invisible to the cycle collector, so model -> array -> agent -> model would leak.
        self._family_handles: list[Family | None] = []
        self.handles_due = 0  # families whose handle is not made yet (sim.population.create_family_handles)
        self.facilitator_agents: list[Facilitator | None] = []
        self.changed_districts: set[int] = set()
        # a steady start (sim.warmup, docs/ODD.md 5.4), before any policy is set up, so every
        # scenario of a replicate starts from the same state: the workforce is warmed up
        # first (families are then shared over the posts filled at the end of it)
        self.families = FamilyState(0)
        self.district_due = np.zeros(self.n_districts)  # admin backlog per kecamatan over the warm-up
        self._init_posts()
        warmup.warm_up_workforce(self)
        self._init_families()
        # the admin backlog at its steady state before the families' warm-up reads the visits
        # (sim/processes/timebudget.py); the PKH payments withheld at the start after it
        timebudget.spin_up(self)
        warmup.warm_up_families(self)
        timebudget.initial_holds(self)
        self._init_poverty()
        self.cost_cum = 0.0
        self.graduations_cum = 0
        self.quits_cum = 0
        self.regency_rows: list[dict[str, Any]] = []
        self.last_regency: dict[str, Any] = {}
        self.district_frames: list[dict[str, np.ndarray]] = []
        for pol in self.policies:
            pol.setup(self)
        self._counters()
        timebudget.step(self)
        self.month = self.start.month
        self.year = self.start.year
        metrics.record(self)
        self.datacollector = mesa.DataCollector(
            model_reporters={k: functools.partial(_reporter, k) for k in metrics.REPORTERS}
        )
        self.datacollector.collect(self)
        if self.check:
            self.check_invariants()

    # ------------------------------------------------------------------ setup
    def _derive(self) -> None:
        p = self.p
        hh = p["household_size"]
        line = p["poverty_line_rp_capita_month"]
        self.pkh_ratio = p["pkh_transfer_rp_family_year"] / 12.0 / hh / line
        self.sembako_ratio = p["sembako_transfer_rp_family_month"] / hh / line
        self.natural_exit_prob = 1.0 - (1.0 - p["natural_exit_rate_year"]) ** (1.0 / 12.0)
        # the data profile says how its population grows (paper-2023: held constant, as the
        # paper's population note says; official: BPS-implied); an explicit override wins
        growth = self.overrides.get("population_growth_year", self.profile.population_growth_year)
        self.population_growth_year = float(growth)
        self.p["population_growth_year"] = self.population_growth_year  # the value used, for manifests
        self.pop_growth_month = (1.0 + self.population_growth_year) ** (1.0 / 12.0)
        self.nonkpm_trend_month = float(np.exp(p["nonkpm_poor_trend_year"] / 12.0))

    @property
    def supervision_resource(self) -> float:
        """Support resources R from supervision (JD-R): full at the good ratio, less when stretched."""
        p = self.p
        return float(p["supervision_resource_max"] * min(1.0, p["supervision_good_ratio"] / self.surface.supervision_ratio))

    def _counters(self) -> None:
        self.hires_month = 0
        self.quits_month = 0
        self.trained_month = 0
        self.graduations_month = 0
        self.exits_month = 0
        self.entries_month = 0
        self.entries_unfilled_month = 0
        self.entries_near_poor_month = 0
        self.entrants_poor_pre_month = 0
        self.leavers_poor_pre_month = 0
        self.cost_month = 0.0
        self.cost_lines = cost.zero_lines()
        self.graduated_districts = np.empty(0, dtype=np.int64)
        # admin backlog and late payments this month (sim/processes/timebudget.py), family-months
        self.pkh_withheld_month = 0
        self.pkh_lost_month = 0
        self.pkh_arrears_month = 0
        self.surface.new_month()

    def incentive_for(self, districts: np.ndarray) -> np.ndarray:
        """Monthly pay of a post in each of ``districts`` (base incentive x regional multiplier)."""
        return self.p["incentive_rp_month"] * self.surface.incentive_multiplier[np.asarray(districts, dtype=np.int64)]

    def _init_posts(self) -> None:
        p = self.p
        rng = self.streams["init"]
        counts = self.profile.districts["facilitators"].to_numpy(dtype=np.int64)
        n = int(counts.sum())
        ps = self.posts = PostState(max(2 * n, n + 64))
        rows = np.arange(n)
        ps.open[rows] = True
        ps.district[rows] = np.repeat(np.arange(self.n_districts), counts)
        ps.refill_step[:] = -1
        skill = np.clip(rng.normal(p["initial_skill_mean"], 0.12, (2, n)), 0.05, 0.95)
        ps.s_tech[rows] = skill[0]
        ps.s_psy[rows] = skill[1]
        ps.motivation[rows] = 0.5
        ps.tenure_months[rows] = rng.integers(12, 97, n)
        ps.months_since_training[rows] = rng.integers(0, 49, n)
        ps.local[rows] = rng.random(n) < p["local_share_initial"]
        ps.contract_month[rows] = rng.integers(1, 13, n)
        ps.filled[rows] = True
        ps.incentive_rp[rows] = self.incentive_for(ps.district[rows])
        population.draw_facilitator_traits(self, rows, rng)
        self.facilitator_agents = [None] * ps.capacity
        population.create_facilitators(self, rows)

    def _init_families(self) -> None:
        rng = self.streams["init"]
        d = self.profile.districts
        counts = d["kpm_families"].to_numpy(dtype=np.int64)
        n = int(counts.sum())
        fam = self.families = FamilyState(int(n * 1.25) + 64)
        rows = np.arange(n)
        fam.active[rows] = True
        fam.district[rows] = np.repeat(np.arange(self.n_districts), counts)
        fam.fac[:] = -1
        # round-robin within each district over its posts
        ps = self.posts
        for k in range(self.n_districts):
            fr = rows[fam.district[rows] == k]
            posts = np.flatnonzero(ps.filled & (ps.district == k))
            if fr.size and posts.size:
                fam.fac[fr] = posts[np.arange(fr.size) % posts.size]
        population.draw_family_traits(self, rows, rng, initial=True)
        self._family_handles = [None] * fam.capacity
        population.create_family_handles(self, rows)

    def _init_poverty(self) -> None:
        pr = self.profile
        share = self.profile.districts["population_share"].to_numpy(dtype=np.float64)
        self.population = pr.population_start * self.scale * share
        kpm_poor = self._kpm_poor_by_district()
        nonkpm_total = pr.poor_people_start * self.scale - kpm_poor.sum()
        # the KPM poor share is solved to share_poor_in_kpm x the profile's poor (at most 0.95 of
        # KPM members), so they exceed the profile's poor only by the rounding of whole families
        # (share_poor_in_kpm = 1); the outside then starts with no poor rather than a negative count
        if nonkpm_total < -self.p["household_size"]:
            raise params.ParameterError(
                f"share_poor_in_kpm: {kpm_poor.sum() / self.scale:.0f} poor KPM members exceed the profile's "
                f"{pr.poor_people_start:.0f} poor people")
        self.nonkpm_poor = max(nonkpm_total, 0.0) * share
        self.outside_poor_growth = 1.0  # factor applied to the outside poor this month (population.grow_population)

    def _kpm_poor_by_district(self) -> np.ndarray:
        fam = self.families
        return np.bincount(fam.district[fam.poor], minlength=self.n_districts) * self.p["household_size"]

    # ------------------------------------------------------------------ agents
    # Family handles are made when first looked at (sim.population.create_family_handles):
    # every way of looking at Mesa's agents makes the due ones first.
    @property
    def agents(self) -> Any:
        """Every Mesa agent (Mesa's AgentSet), Family handles included."""
        population.make_due_handles(self)
        return super().agents

    @property
    def agents_by_type(self) -> Any:
        """Mesa agents by class, Family handles included."""
        population.make_due_handles(self)
        return super().agents_by_type

    @property
    def agent_types(self) -> list[type]:
        """Classes of the Mesa agents."""
        population.make_due_handles(self)
        return super().agent_types

    def remove_all_agents(self) -> None:
        """Remove every agent (Mesa's method), Family handles included."""
        population.make_due_handles(self)
        super().remove_all_agents()

    @property
    def family_agents(self) -> list[Family | None]:
        """The Family agent of each family row, None for a free row."""
        population.make_due_handles(self)
        return self._family_handles

    def facilitator_at(self, post: int) -> Facilitator | None:
        """The facilitator holding ``post``, or None when it is vacant."""
        return self.facilitator_agents[post] if 0 <= post < len(self.facilitator_agents) else None

    def refresh_caseload(self) -> None:
        """Recount every post's caseload (regency scale) from the families' assignments."""
        fam = self.families
        assigned = fam.active & (fam.fac >= 0)
        n = np.bincount(fam.fac[assigned], minlength=self.posts.capacity)[: self.posts.capacity]
        self.posts.caseload[:] = n * self.family_weight

    # ------------------------------------------------------------------ time
    @property
    def n_families(self) -> int:
        """Families currently enrolled."""
        return int(self.families.active.sum())

    def quota_target(self) -> int:
        """Programme quota (scaled) for the current calendar year."""
        q = self.profile.quota_by_year
        years = sorted(q)
        y = min(max(self.year, years[0]), years[-1])
        while y not in q:
            y -= 1
        return round(q[y] * self.scale)

    @property
    def current_month(self) -> Month:
        """The month the model is in (the one being simulated during a step)."""
        return self.start.plus(max(self.steps - 1, 0))

    def date_of_step(self, k: int) -> date:
        """Date of the state recorded after ``k`` steps (first day of the following month)."""
        return self.start.plus(k).as_date()

    def step(self) -> None:
        """One month: staffing, time budget, visits, families, workforce, cost, record (sim.processes)."""
        m = self.current_month
        self.year, self.month = m.year, m.month
        self._counters()
        for phase in PHASES:
            for pol in self._slots["before", phase]:
                pol.apply(self)
            _PHASE_FN[phase](self)
            for pol in self._slots["after", phase]:
                pol.apply(self)
        self.datacollector.collect(self)
        if self.check:
            self.check_invariants()

    # ------------------------------------------------------------------ outputs
    def regency_table(self) -> pd.DataFrame:
        """One row per month (step 0 = initial state) with the regency indicators."""
        df = pd.DataFrame(self.regency_rows)
        df.insert(0, "seed", self.seed)
        return df

    def district_table(self) -> pd.DataFrame:
        """One row per month and kecamatan with the district indicators and WISN staffing need."""
        df = metrics.district_frame(self)
        df.insert(0, "seed", self.seed)
        return df

    def parameters(self) -> dict[str, Any]:
        """Every model parameter value of this run (levers never change them)."""
        return dict(self.p)

    def lever_settings(self) -> dict[str, dict[str, Any]]:
        """The settings of every lever switched on in this run, defaults filled in."""
        return {pol.name: dict(getattr(pol, "values", {})) for pol in self.policies}

    # ------------------------------------------------------------------ checks
    def check_invariants(self) -> None:
        """Raise InvariantError when conservation or bounds fail (run each step in tests)."""
        invariants.check(self)


_PHASE_FN = {
    "staffing": staffing.step,
    "timebudget": timebudget.step,
    "visits": visits.step,
    "families": families.step,
    "workforce": workforce.step,
    "cost": cost.step,
    "record": metrics.record,
}


def _signature() -> inspect.Signature:
    """The constructor's signature with every parameter of sim.params as a keyword."""
    base = inspect.signature(CaseloadModel.__init__)
    fixed = [v for k, v in base.parameters.items() if k != "overrides"]
    extra = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=params.PARAMS[n].default)
             for n in params.MODEL_PARAMS]
    head = [v.replace(kind=inspect.Parameter.POSITIONAL_OR_KEYWORD) for v in fixed]
    return base.replace(parameters=head + extra)


CaseloadModel.__init__.__signature__ = _signature()  # type: ignore[attr-defined]
