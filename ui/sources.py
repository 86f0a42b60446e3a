"""The Sources page: where every figure comes from, and where the paper and BPS disagree.

Tables are read from the code and data the model uses: ``sim.params.table()`` (every
parameter's default, unit and source tag), the lever settings of ``sim.policies``, the
data profiles' own ``sources`` and the BPS poverty series in sim/data.
"""

from __future__ import annotations

import pandas as pd
import solara

from sim import params
from sim.districts import DATA_DIR, PROFILE_NAMES
from sim.profiles import load_profile
from ui import state
from ui.widgets import Heading

t = state.t


def parameter_table() -> pd.DataFrame:
    """Every parameter (and lever setting, once the registry lists them): name, default, unit, source."""
    rows = [{"name": r["name"], "group": r["group"], "default": str(r["default"]), "unit": r["unit"],
             "label": r["label"], "source": r["source"]} for r in params.table()]
    return pd.DataFrame(rows)


def lever_table() -> pd.DataFrame:
    """Every lever setting not already in the parameter table."""
    from sim.policies import REGISTRY

    have = set(params.PARAMS)
    rows = [{"name": f"{ln}.{sn}", "default": str(s.default), "unit": s.unit, "label": s.label, "source": s.source}
            for ln, cls in REGISTRY.items() for sn, s in cls.settings.items() if f"{ln}.{sn}" not in have]
    return pd.DataFrame(rows, columns=["name", "default", "unit", "label", "source"])


def profile_sources(name: str) -> pd.DataFrame:
    """The sources a data profile gives for its figures."""
    pr = load_profile(name)
    return pd.DataFrame([{"key": k, "source": v} for k, v in pr.sources.items()])


def bps_series() -> pd.DataFrame:
    """BPS poverty series of Kabupaten Bekasi (sim/data/bps_poverty_series.csv)."""
    df = pd.read_csv(DATA_DIR / "bps_poverty_series.csv")
    return df[["year", "poverty_rate_pct", "poor_people", "source"]]


def _rename(df: pd.DataFrame) -> pd.DataFrame:
    return df.rename(columns={c: t(f"col.{c}") for c in df.columns if f"col.{c}" != t(f"col.{c}")})


@solara.component
def Sources() -> None:
    """The Sources page."""
    state.lang.use_value()
    Heading(f"{t('sources.heading')}", 2)
    solara.Text(t("sources.tags"))
    Heading(f"{t('sources.disagree')}", 3)
    with solara.Div(classes=["caseload-disagree"]):
        solara.Text(t("sources.disagree_text"))
    Heading(f"{t('sources.bps')}", 3)
    solara.DataFrame(_rename(bps_series()), items_per_page=20)
    for name in PROFILE_NAMES:
        Heading(f"{t('sources.profile', name=name)}", 3)
        solara.DataFrame(_rename(profile_sources(name)), items_per_page=30)
    Heading(f"{t('sources.params')}", 3)
    solara.DataFrame(_rename(parameter_table()), items_per_page=100)
    levers = lever_table()
    if len(levers):
        Heading(f"{t('sources.levers')}", 3)
        solara.DataFrame(_rename(levers), items_per_page=50)
