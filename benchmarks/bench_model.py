"""Benchmark of one full-scale model run against Mesa's own agent loop (prints figures; not a test).

At full paper scale (about 88,000 families, 354 facilitators, 23 districts), in one process:
  - CaseloadModel construction time, 36 monthly steps, and a 120-month run;
  - peak RSS of the process (resource.getrusage) and RSS growth over one run;
  - the reference: Mesa's ``model.agents.shuffle_do("step")`` over as many agents with an
    empty step, 36 times, measured in the same process.
Target (issue 2): construction + 36 steps <= 0.35 x the Mesa figure, and <= 400 MB.
Medians of --repeats runs (default 3).

    python benchmarks/bench_model.py [--repeats 3] [--profile paper-2023] [--scale 1.0]
"""

from __future__ import annotations

import argparse
import gc
import resource
import statistics
import sys
import time
from pathlib import Path

import mesa
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sim.model import CaseloadModel


class _Empty(mesa.Agent):
    def step(self) -> None:
        pass


class _MesaReference(mesa.Model):
    def __init__(self, n: int, rng: int = 1) -> None:
        super().__init__(rng=rng)
        _Empty.create_agents(self, n)


def rss_mb() -> float:
    return psutil.Process().memory_info().rss / 2**20


def time_model(profile: str, scale: float, months: int, seed: int) -> tuple[float, float, int, float]:
    gc.collect()
    r0 = rss_mb()
    t0 = time.perf_counter()
    model = CaseloadModel(profile=profile, scale=scale, rng=seed)
    t1 = time.perf_counter()
    for _ in range(months):
        model.step()
    t2 = time.perf_counter()
    n_agents = len(model.agents)
    grown = rss_mb() - r0
    del model
    gc.collect()
    return t1 - t0, t2 - t1, n_agents, grown


def time_mesa(n_agents: int, steps: int = 36) -> float:
    gc.collect()
    ref = _MesaReference(n_agents)
    t0 = time.perf_counter()
    for _ in range(steps):
        ref.agents.shuffle_do("step")
    t1 = time.perf_counter()
    del ref
    gc.collect()
    return t1 - t0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--profile", default="paper-2023")
    ap.add_argument("--scale", type=float, default=1.0)
    args = ap.parse_args()

    cons, steps36, mesa36, growth = [], [], [], []
    n_agents = 0
    base = rss_mb()
    for i in range(args.repeats):
        c, s, n_agents, g = time_model(args.profile, args.scale, 36, seed=1000 + i)
        cons.append(c)
        steps36.append(s)
        growth.append(g)
    long_c, long_s, _, _ = time_model(args.profile, args.scale, 120, seed=7)
    # peak RSS of the process while it ran only our model (before Mesa's reference exists)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB -> MiB on Linux
    for _ in range(args.repeats):  # the reference, interleaved after, in the same process
        mesa36.append(time_mesa(n_agents))

    med = statistics.median
    total = [c + s for c, s in zip(cons, steps36, strict=True)]
    ratio = med(total) / med(mesa36)
    print(f"profile {args.profile}, scale {args.scale:g}, {n_agents:,} agents at the end of the run, "
          f"{args.repeats} repeats (medians); Python {sys.version.split()[0]}, Mesa {mesa.__version__}")
    print(f"  construction                         {med(cons):8.3f} s")
    print(f"  36 monthly steps                     {med(steps36):8.3f} s")
    print(f"  construction + 36 steps              {med(total):8.3f} s")
    print(f"  Mesa shuffle_do('step') x36, empty   {med(mesa36):8.3f} s   ({n_agents:,} agents)")
    print(f"  ratio (ours / Mesa)                  {ratio:8.3f}     target <= 0.35")
    print(f"  120 months: construction + steps     {long_c + long_s:8.3f} s")
    print(f"  RSS growth over one 36-month run     {med(growth):8.1f} MB")
    print(f"  peak RSS while running the model     {peak:8.1f} MB   target <= 400 MB "
          f"(of which {base:.0f} MB is Python + imports before the first model)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
