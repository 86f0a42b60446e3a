"""Fit: ABC-SMC (pyabc), rejection ABC, or a point estimate (scipy), resumable, into a folder.

``calibrate(ts, prior, out, method=...)`` writes into ``out``:

    calibration.json     what was asked (identity: targets sha256, prior, method, sizes, seed),
                         the code and data hashes, and one entry per command on the folder
    abc.db               pyabc's history (abc-smc): resuming continues from the last generation
    sims/chunk_*.parquet the simulations of a rejection run (resuming skips finished chunks)
    optimize.json        the point estimate (optimize)
    posterior.parquet    weighted posterior draws: one column per parameter, weight, generation;
                         schema metadata key 'caseload-calibration' = targets, data and code hashes
    diagnostics.csv      per generation: epsilon, simulations, accepted, acceptance rate, ESS

A folder holding another calibration (other targets, prior, method, seed) is refused (exit
2). Killing a run and re-running the same command resumes: an ABC-SMC run loses at most the
generation in progress, a rejection run the chunk in progress.

Why pyabc (0.13): a maintained ABC-SMC library with adaptive population sizes and
thresholds, transition kernels, a history database (so runs resume), and parallel samplers
for a local machine (MulticoreEvalParallelSampler) and a Dask cluster
(DaskDistributedSampler), the two executors of the batch runner; it installs and runs with
Python 3.12, pandas 3 and numpy 2. ELFI and ABCpy were the alternatives: ELFI is not
released for numpy 2, ABCpy needs MPI for distribution. pyabc draws its proposals from
numpy's global random state; we seed it, but the multicore sampler's worker processes make
an ABC-SMC run reproducible in distribution, not bit for bit (each simulation is: its seed
is a function of its parameters).
"""

from __future__ import annotations

import json
import logging
import math
import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import pandas as pd

from calibration.engine import Bar, CalibrationError, Distance, Mapper, Prior, Simulator
from calibration.targets import TargetSet

METHODS = ("abc-smc", "rejection", "optimize")
FORMAT = "caseload-calibration/1"
META_KEY = b"caseload-calibration"
CHUNK = 50


def _plain_atomic(path: Path, data: bytes) -> None:
    import os
    import tempfile

    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    """Write JSON atomically."""
    _plain_atomic(path, (json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n").encode())


def write_parquet(path: Path, df: pd.DataFrame, meta: dict[str, Any] | None = None) -> None:
    """Write a Parquet file atomically, with JSON metadata under META_KEY."""
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(df, preserve_index=False)
    if meta is not None:
        table = table.replace_schema_metadata({**(table.schema.metadata or {}),
                                               META_KEY: json.dumps(meta, sort_keys=True, default=str).encode()})
    buf = io.BytesIO()
    pq.write_table(table, buf)
    _plain_atomic(path, buf.getvalue())


def provenance(ts: TargetSet) -> dict[str, Any]:
    """Hashes of the targets, the model's data files and the model code."""
    from runs import io as sio
    from runs import store

    root = Path(__file__).resolve().parent.parent
    data = sio.hashes(sio.data_files(), root)
    return {
        "targets": {"name": ts.name, "path": str(ts.path), "sha256": ts.sha256},
        "data_sha256": data,
        "data_hash": _digest(data),
        "code_hash": store.code_hash(),
        "code_version": sio.code_version(),
    }


def _digest(obj: Any) -> str:
    import hashlib

    return hashlib.sha256(json.dumps(obj, sort_keys=True).encode()).hexdigest()[:16]


def identity(ts: TargetSet, prior: Prior, method: str, population: int, seed: int, scale: float) -> dict[str, Any]:
    """What must match for a folder to be resumed."""
    return {"format": FORMAT, "targets_sha256": ts.sha256, "targets": ts.name, "prior": prior.as_list(),
            "method": method, "population": population, "seed": seed, "scale": scale}


def open_folder(out: Path, ident: dict[str, Any], argv: list[str] | None) -> dict[str, Any]:
    """Create or resume the folder; refuse one that holds another calibration."""
    out.mkdir(parents=True, exist_ok=True)
    man_path = out / "calibration.json"
    if man_path.exists():
        try:
            man = json.loads(man_path.read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise CalibrationError(f"{man_path}: unreadable ({e}); use another --out") from None
        if man.get("identity") != ident:
            diff = sorted(k for k in ident if man.get("identity", {}).get(k) != ident[k])
            raise CalibrationError(f"{out}: holds another calibration (differs in {', '.join(diff)}); "
                                   "use another --out or the same options")
    else:
        man = {"identity": ident, "commands": []}
    man.setdefault("commands", []).append({"argv": list(argv or sys.argv)})
    write_json(man_path, man)
    return man


def pyabc_quiet() -> None:
    """pyabc logs every generation at INFO; our progress bar says the same."""
    for name in ("ABC", "Sampler", "Epsilon", "Distance", "Acceptor", "History", "pyabc", "ABC.Sampler",
                 "ABC.History", "ABC.Distance", "ABC.Epsilon", "ABC.Acceptor", "ABC.Population"):
        logging.getLogger(name).setLevel(logging.WARNING)


def _sampler(executor: str, jobs: int, scheduler: str | None, mapper: Mapper) -> Any:
    import pyabc

    if executor == "dask":
        return pyabc.sampler.DaskDistributedSampler(dask_client=mapper.client(), batch_size=1)
    if jobs == 1:
        return pyabc.sampler.SingleCoreSampler()
    return pyabc.sampler.MulticoreEvalParallelSampler(n_procs=jobs)


def run_abc_smc(ts: TargetSet, prior: Prior, sim: Simulator, out: Path, population: int, budget: int,
                generations: int, seed: int, mapper: Mapper, bar: bool | None, stream: TextIO) -> None:
    """ABC-SMC with pyabc: resume the history in out/abc.db, run until the budget or generations."""
    import pyabc

    pyabc_quiet()
    np.random.seed(seed % 2**32)  # noqa: NPY002 - pyabc draws from numpy's global state (see module docstring)
    pri = pyabc.Distribution(**{r.name: pyabc.RV("uniform", r.low, r.high - r.low) for r in prior.ranges})
    abc = pyabc.ABCSMC(sim, pri, Distance(ts), population_size=population,
                       sampler=_sampler(mapper.executor, mapper.jobs, mapper.scheduler, mapper),
                       eps=pyabc.QuantileEpsilon(alpha=0.5))
    db = "sqlite:///" + str((out / "abc.db").resolve())
    if (out / "abc.db").exists():
        try:
            h = abc.load(db, 1)
        except Exception:
            h = None
        if h is None or h.max_t < 0:
            (out / "abc.db").unlink()
            abc.new(db, ts.observed())
    else:
        abc.new(db, ts.observed())
    hist = abc.history
    done = int(hist.total_nr_simulations) if hist.max_t >= 0 else 0
    gens = hist.max_t + 1
    if gens:
        print(f"resuming {out}: {gens} generation(s), {done} simulations done", file=stream, flush=True)
    if gens >= generations or done >= budget:
        return
    b = Bar(budget, "abc-smc", stream, bar, initial=min(done, budget))
    import multiprocessing as mp
    import threading

    from calibration import engine

    engine.COUNTER = mp.get_context("fork").Value("l", 0)
    stop = threading.Event()

    def poll() -> None:
        seen = 0
        while not stop.wait(0.5):
            now = int(engine.COUNTER.value)
            if now > seen:
                b.update(min(now - seen, max(0, budget - b.n)))
                seen = now

    th = threading.Thread(target=poll, daemon=True)
    th.start()
    try:
        # one call for every remaining generation: pyabc adapts epsilon between generations
        # only within a run (a resumed run starts a fresh ABCSMC from the stored history)
        abc.run(max_nr_populations=generations - gens, max_total_nr_simulations=budget)
    finally:
        stop.set()
        th.join()
        engine.COUNTER = None
        b.close()
    pops = abc.history.get_all_populations()
    for r in pops[pops["t"] >= gens].itertuples():
        print(f"generation {int(r.t)}: epsilon {float(r.epsilon):.4g}, {int(r.samples)} simulations, "
              f"acceptance {int(r.particles) / max(int(r.samples), 1):.2f}", file=stream, flush=True)


def stability(gens: list[tuple[pd.DataFrame, np.ndarray]], prior: Prior) -> pd.DataFrame:
    """Per generation: weighted mean and s.d. of each parameter, and the change from the last.

    ``mean_shift``: the largest |change of a parameter's posterior mean| since the previous
    generation, as a share of its prior range; ``sd_change``: the largest |relative change of
    a parameter's posterior s.d.|. Both small over the last generations: the posterior has
    stopped moving (NaN for the first generation).
    """
    rows: list[dict[str, float]] = []
    for df, w in gens:
        w = np.asarray(w, dtype=float) / float(np.sum(w))
        row: dict[str, float] = {}
        for r in prior.ranges:
            x = df[r.name].to_numpy(dtype=float)
            m = float(np.sum(w * x))
            row[f"mean:{r.name}"] = m
            row[f"sd:{r.name}"] = float(np.sqrt(max(np.sum(w * (x - m) ** 2), 0.0)))
        rows.append(row)
    st = pd.DataFrame(rows)
    width = {r.name: (r.high - r.low) or 1.0 for r in prior.ranges}
    shift = np.full(len(st), np.nan)
    sdc = np.full(len(st), np.nan)
    for i in range(1, len(st)):
        shift[i] = max(abs(st.at[i, f"mean:{n}"] - st.at[i - 1, f"mean:{n}"]) / width[n] for n in width)
        sdc[i] = max(abs(st.at[i, f"sd:{n}"] / st.at[i - 1, f"sd:{n}"] - 1.0) if st.at[i - 1, f"sd:{n}"] > 0 else 0.0
                     for n in width)
    st.insert(0, "sd_change", sdc)
    st.insert(0, "mean_shift", shift)
    return st


def abc_posterior(out: Path, prior: Prior | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last generation's weighted draws and per-generation diagnostics from out/abc.db.

    With ``prior``, the diagnostics also hold each generation's stability (``stability``).
    """
    import pyabc
    from pyabc.weighted_statistics import effective_sample_size

    pyabc_quiet()
    h = pyabc.History("sqlite:///" + str((out / "abc.db").resolve()), _id=1)
    pops = h.get_all_populations()
    pops = pops[pops["t"] >= 0]
    if pops.empty:
        raise CalibrationError(f"{out}/abc.db: no finished generation yet; re-run to continue")
    rows = []
    gens = []
    for r in pops.itertuples():
        dist, w = h.get_distribution(m=0, t=int(r.t))
        gens.append((dist, np.asarray(w)))
        rows.append({"generation": int(r.t), "epsilon": float(r.epsilon), "simulations": int(r.samples),
                     "accepted": int(r.particles), "acceptance_rate": int(r.particles) / max(int(r.samples), 1),
                     "ess": float(effective_sample_size(np.asarray(w)))})
    diag = pd.DataFrame(rows)
    if prior is not None:
        diag = pd.concat([diag, stability(gens, prior)], axis=1)
    # every simulation, with pyabc's calibration sample from the prior (generation -1)
    diag.attrs["total_simulations"] = int(h.total_nr_simulations)
    t = int(pops["t"].max())
    df, w = h.get_distribution(m=0, t=t)
    post = df.reset_index(drop=True).copy()
    post.columns = [str(c) for c in post.columns]
    post["weight"] = np.asarray(w, dtype=float) / float(np.sum(w))
    post["generation"] = t
    return post, diag


def run_rejection(ts: TargetSet, prior: Prior, sim: Simulator, out: Path, population: int, budget: int,
                  seed: int, mapper: Mapper, bar: bool | None, stream: TextIO) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rejection ABC: ``budget`` prior draws, keep the ``population`` nearest (equal weights)."""
    if population > budget:
        raise CalibrationError(f"--population ({population}) must not exceed --budget ({budget}) for rejection")
    x = prior.sample(budget, np.random.default_rng(np.random.SeedSequence([seed, 0x5EC7])))
    dist = Distance(ts)
    (out / "sims").mkdir(exist_ok=True)
    chunks = [(k, x[k:k + CHUNK]) for k in range(0, budget, CHUNK)]
    have = {k for k, _ in chunks if (out / "sims" / f"chunk_{k:06d}.parquet").exists()}
    b = Bar(budget, "rejection", stream, bar, initial=sum(len(c) for k, c in chunks if k in have))
    try:
        for k, rows in chunks:
            if k in have:
                continue
            stats = mapper.map(sim, [dict(zip(prior.names, r, strict=True)) for r in rows], done=b.update)
            df = pd.DataFrame(rows, columns=prior.names)
            df["distance"] = [dist(s) for s in stats]
            for name in stats[0] if stats else []:
                df[f"stat:{name}"] = [s.get(name, math.nan) for s in stats]
            write_parquet(out / "sims" / f"chunk_{k:06d}.parquet", df)
    finally:
        b.close()
    allsims = pd.concat([pd.read_parquet(out / "sims" / f"chunk_{k:06d}.parquet") for k, _ in chunks],
                        ignore_index=True)
    keep = allsims.sort_values("distance", kind="stable").head(population)
    post = keep[prior.names].reset_index(drop=True).copy()
    post["weight"] = 1.0 / len(post)
    post["generation"] = 0
    eps = float(keep["distance"].max())
    diag = pd.DataFrame([{"generation": 0, "epsilon": eps, "simulations": budget, "accepted": len(post),
                          "acceptance_rate": len(post) / budget, "ess": float(len(post))}])
    return post, diag


def run_optimize(ts: TargetSet, prior: Prior, sim: Simulator, out: Path, budget: int, seed: int,
                 mapper: Mapper, bar: bool | None, stream: TextIO, replicates: int = 4) -> dict[str, Any]:
    """A point estimate: Nelder-Mead on the mean distance over fixed seeds (common random numbers).

    For a quick look only: no uncertainty; never presented as the calibration result.
    """
    from scipy.optimize import minimize

    lo = np.array([r.low for r in prior.ranges])
    hi = np.array([r.high for r in prior.ranges])
    dist = Distance(ts)
    seeds = [int(s) for s in np.random.SeedSequence([seed, 0x0971]).generate_state(replicates)]
    b = Bar(budget, "optimize", stream, bar)
    calls: list[tuple[list[float], float]] = []

    def objective(u: np.ndarray) -> float:
        vals = prior.values(list(lo + (hi - lo) * np.clip(u, 0, 1)))
        stats = mapper.map(_SeededRun(sim, vals), seeds, done=b.update)
        d = float(np.mean([dist(s) for s in stats]))
        calls.append(([float(v) for v in vals.values()], d))
        return d

    try:
        res = minimize(objective, np.full(len(lo), 0.5), method="Nelder-Mead",
                       options={"maxfev": max(1, budget // replicates), "xatol": 1e-3, "fatol": 1e-3,
                                "initial_simplex": None})
    finally:
        b.close()
    best = prior.values(list(lo + (hi - lo) * np.clip(res.x, 0, 1)))
    result = {"point_estimate": best, "mean_distance": float(res.fun), "evaluations": len(calls),
              "simulations": len(calls) * replicates, "seeds": seeds,
              "note": "a point estimate for a quick look: no uncertainty, not the calibration result"}
    write_json(out / "optimize.json", result)
    return result


class _SeededRun:
    """Picklable: one simulation at fixed values with a given seed."""

    def __init__(self, sim: Simulator, values: dict[str, Any]) -> None:
        self.sim, self.values = sim, values

    def __call__(self, seed: int) -> dict[str, float]:
        return self.sim.run(self.values, seed)[0]


def weighted_quantile(x: np.ndarray, w: np.ndarray, q: float) -> float:
    """Quantile q of x with weights w (inverse of the weighted empirical CDF, midpoint rule)."""
    order = np.argsort(x, kind="stable")
    xs, ws = np.asarray(x, float)[order], np.asarray(w, float)[order]
    c = (np.cumsum(ws) - 0.5 * ws) / ws.sum()
    return float(np.interp(q, c, xs))


def summarize(post: pd.DataFrame, prior: Prior) -> pd.DataFrame:
    """Posterior mean, median and 90% interval per parameter, next to the prior range."""
    w = post["weight"].to_numpy()
    rows = []
    for r in prior.ranges:
        x = post[r.name].to_numpy(dtype=float)
        rows.append({"parameter": r.name, "prior_low": r.low, "prior_high": r.high,
                     "mean": float(np.sum(w * x) / w.sum()), "q05": weighted_quantile(x, w, 0.05),
                     "median": weighted_quantile(x, w, 0.5), "q95": weighted_quantile(x, w, 0.95)})
    return pd.DataFrame(rows)
