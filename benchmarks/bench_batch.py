"""Benchmark of the batch runner (a script that prints figures, not a test).

Default: 9 scenarios x 20 replicates x 36 months at full scale (scale 1.0), run with
--jobs 1 and --jobs 2 on the local process pool, then the same runs through
``mesa.batch_run(..., number_processes=2)`` for comparison. Prints wall time, runs per
second, peak memory of the process tree (parent + workers, sampled with psutil every
200 ms, and the largest single process from getrusage), the speed-up from 1 to 2 jobs,
and checks that 1 and 2 jobs wrote bitwise identical result files and that mesa.batch_run
ends at the same poverty rates. With --repeat K every configuration runs K times and the
medians are printed.

The scenarios are the files in scenarios/ (baseline first); when fewer than --scenarios
exist, copies of the baseline (extends = "baseline", renamed) fill the gap, and the
script says so.

    python benchmarks/bench_batch.py                                   # the full benchmark
    python benchmarks/bench_batch.py --scenarios 3 --replicates 4 --months 12 --scale 0.25
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psutil

from runs import batch, executors, store
from runs.scenario import SCENARIO_DIR, load_any
from sim.model import CaseloadModel
from sim.rng import replicate_seeds

TARGET_SPEEDUP = 1.8
TARGET_WALL_S = 240.0


class ScenarioModel(CaseloadModel):
    """CaseloadModel built from a scenario file, so that mesa.batch_run can sweep scenarios."""

    def __init__(self, scenario_path: str = "baseline", scale: float = 1.0, rng: int | None = None) -> None:
        kwargs = load_any(scenario_path).model_kwargs()
        kwargs["scale"] = scale
        super().__init__(rng=rng, **kwargs)


class PeakMemory:
    """Peak resident memory of this process and all its descendants (sampled)."""

    def __init__(self, every_s: float = 0.2) -> None:
        self.every = every_s
        self.peak = 0
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = psutil.Process()
        while not self._stop.is_set():
            total = 0
            try:
                procs = [me, *me.children(recursive=True)]
            except psutil.Error:
                procs = [me]
            for p in procs:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            self._stop.wait(self.every)

    def __enter__(self) -> PeakMemory:
        self._t.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._t.join()


def scenario_paths(n: int, tmp: Path) -> tuple[list[str], int]:
    files = sorted(SCENARIO_DIR.glob("*.toml"), key=lambda p: (p.stem != "baseline", p.stem))
    paths = [str(p) for p in files[:n]]
    pad = n - len(paths)
    for k in range(pad):
        p = tmp / f"baseline-copy-{k + 1}.toml"
        p.write_text(f'name = "baseline-copy-{k + 1}"\nextends = "{SCENARIO_DIR / "baseline.toml"}"\n'
                     'description = "a copy of the baseline (benchmark padding)"\n', encoding="utf-8")
        paths.append(str(p))
    return paths, pad


def hashes(out: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in (out / "runs").iterdir()}


def run_batch(paths: list[str], reps: int, months: int, scale: float, jobs: int, out: Path) -> dict[str, Any]:
    plan = batch.plan_batch([load_any(p) for p in paths], reps, master_seed=batch.DEFAULT_SEED, months=months, scale=scale)
    t0 = time.perf_counter()
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    with PeakMemory() as mem:
        res = batch.run_plan(plan, out, jobs=jobs, executor="local", stream=io.StringIO(), bar=False)
    wall = time.perf_counter() - t0
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    parent_cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
    if not res.ok:
        raise SystemExit(f"benchmark batch failed: {res.failed}")
    return {"wall": wall, "runs": res.total, "peak": mem.peak, "parent_cpu": parent_cpu,
            "maxrss_child": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024}


def run_mesa(paths: list[str], reps: int, months: int, scale: float, jobs: int) -> dict[str, Any]:
    import mesa

    seeds = replicate_seeds(batch.DEFAULT_SEED, reps)
    t0 = time.perf_counter()
    with PeakMemory() as mem:
        rows = mesa.batch_run(ScenarioModel, parameters={"scenario_path": paths, "scale": scale}, rng=seeds,
                              max_steps=months, number_processes=jobs, display_progress=False, data_collection_period=-1)
    wall = time.perf_counter() - t0
    return {"wall": wall, "runs": len(rows), "peak": mem.peak, "rows": rows}


def mb(n: float) -> str:
    return f"{n / 2**20:,.0f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scenarios", type=int, default=9)
    ap.add_argument("--replicates", type=int, default=20)
    ap.add_argument("--months", type=int, default=36)
    ap.add_argument("--scale", type=float, default=1.0)
    ap.add_argument("--jobs", default="1,2", help="comma-separated job counts (default 1,2)")
    ap.add_argument("--repeat", type=int, default=1, help="run every configuration K times and print medians")
    ap.add_argument("--no-mesa", action="store_true", help="skip the mesa.batch_run comparison")
    a = ap.parse_args()
    jobs_list = [int(j) for j in a.jobs.split(",")]
    os.environ.pop(executors.FAULT_ENV, None)

    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmpd:
        tmp = Path(tmpd)
        paths, pad = scenario_paths(a.scenarios, tmp)
        total = len(paths) * a.replicates
        print(f"bench_batch: {len(paths)} scenarios x {a.replicates} replicates x {a.months} months at scale {a.scale:g} "
              f"= {total} runs; {os.cpu_count()} CPUs; python {sys.version.split()[0]}")
        print("scenarios: " + ", ".join(Path(p).stem for p in paths))
        if pad:
            print(f"note: only {len(paths) - pad} scenario files in scenarios/; padded with {pad} copies of the baseline")
        results: dict[int, list[dict[str, Any]]] = {}
        first_hashes: dict[int, dict[str, str]] = {}
        for k in range(a.repeat):  # interleaved, so that a change in machine load hits every configuration
            for j in jobs_list:
                out = tmp / f"jobs{j}-{k}"
                r = run_batch(paths, a.replicates, a.months, a.scale, j, out)
                results.setdefault(j, []).append(r)
                first_hashes.setdefault(j, hashes(out))
                print(f"  caseload batch --jobs {j} (#{k + 1}): {r['wall']:.1f} s, {r['runs'] / r['wall']:.2f} runs/s, "
                      f"peak memory {mb(r['peak'])} (process tree), parent process CPU {r['parent_cpu']:.1f} s", flush=True)
        print()
        print(f"{'configuration':<34} {'wall (median)':>14} {'runs/s':>8} {'peak memory':>13}")
        med: dict[int, float] = {}
        for j, rs in results.items():
            med[j] = statistics.median(r["wall"] for r in rs)
            peak = statistics.median(r["peak"] for r in rs)
            print(f"{'caseload batch, local, --jobs ' + str(j):<34} {med[j]:>12.1f} s {total / med[j]:>8.2f} {mb(peak):>13}")
        if 1 in med and 2 in med:
            sp = med[1] / med[2]
            print(f"speed-up 1 -> 2 jobs: {sp:.2f}x (target >= {TARGET_SPEEDUP}x: {'met' if sp >= TARGET_SPEEDUP else 'NOT met'})")
        if 2 in med:
            print(f"whole batch with 2 jobs: {med[2]:.1f} s (target <= {TARGET_WALL_S:.0f} s: "
                  f"{'met' if med[2] <= TARGET_WALL_S else 'NOT met'})")
        if len(first_hashes) > 1:
            same = len({tuple(sorted(h.items())) for h in first_hashes.values()}) == 1
            print(f"result files identical across job counts: {'yes' if same else 'NO'}")
        print(f"largest single worker (getrusage RUSAGE_CHILDREN ru_maxrss): "
              f"{mb(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024)}")

        if not a.no_mesa:
            mj = max(jobs_list)
            walls = []
            rm: dict[str, Any] = {}
            for k in range(a.repeat):
                rm = run_mesa(paths, a.replicates, a.months, a.scale, mj)
                walls.append(rm["wall"])
                print(f"  mesa.batch_run number_processes={mj} (#{k + 1}): {rm['wall']:.1f} s", flush=True)
            w = statistics.median(walls)
            print(f"{'mesa.batch_run, number_processes=' + str(mj):<34} {w:>12.1f} s {rm['runs'] / w:>8.2f} "
                  f"{mb(rm['peak']):>13}   (keeps final-step reporters in memory; writes no files)")
            if mj in med:
                print(f"mesa.batch_run took {w / med[mj]:.2f}x the wall time of caseload batch --jobs {mj}")
            # same seeds, same model: the final poverty rates must agree with the batch's files
            import pandas as pd

            out = tmp / f"jobs{mj}-0"
            reg = store.read_table(out, "regency", columns=["scenario", "seed", "step", "poverty_rate_pct"])
            end = reg[reg["step"] == a.months].set_index(["seed", "scenario"])["poverty_rate_pct"]
            mesa_end = pd.DataFrame(rm["rows"])
            mesa_end["scenario"] = [load_any(p).name for p in mesa_end["scenario_path"]]
            mesa_end = mesa_end.set_index(["rng", "scenario"])["poverty_rate_pct"]
            diff = (end.sort_index() - mesa_end.rename_axis(["seed", "scenario"]).sort_index()).abs().max()
            print(f"final poverty rate, batch vs mesa.batch_run, max |difference|: {diff:.3g} (same seeds, same model)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
