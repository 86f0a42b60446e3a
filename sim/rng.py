"""Named random streams spawned from one seed.

Every process draws from its own ``numpy.random.Generator``. A stream is derived from the
run's seed and the stream's *name* (not from the order in which streams are created), so
switching a policy on, or adding a stream, never shifts the draws of another process.
That gives common random numbers between scenarios: replicate i of every scenario sees the
same shocks. The global ``random`` and ``np.random`` state are never used.
"""

from __future__ import annotations

import zlib

import numpy as np

#: The streams the model uses, one per process. Policies get their own stream each.
STREAMS: tuple[str, ...] = (
    "init",          # initial state of families and facilitators
    "visits",        # which families a facilitator reaches this month
    "compliance",    # quarterly verification of PKH conditions
    "welfare",       # consumption shocks
    "graduation",    # graduation assessment
    "exits",         # natural exits and quota cuts
    "entries",       # new families' initial state
    "training",      # who attends an advanced course
    "attrition",     # quits and contract non-renewal
    "recruitment",   # new hires' traits
    "payments",      # which families' PKH verification is late, and when held payments are released
    "warmup",        # warm-up months before month 1 and stationary start draws (sim.warmup)
)


def stream_key(name: str) -> int:
    """A stable 32-bit key for a stream name (CRC-32, the same on every platform)."""
    return zlib.crc32(name.encode("utf-8"))


class Streams:
    """A lazily created set of named generators for one run."""

    def __init__(self, seed: int) -> None:
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.seed = int(seed)
        self._gens: dict[str, np.random.Generator] = {}

    def __getitem__(self, name: str) -> np.random.Generator:
        gen = self._gens.get(name)
        if gen is None:
            ss = np.random.SeedSequence(self.seed, spawn_key=(stream_key(name),))
            gen = np.random.Generator(np.random.PCG64(ss))
            self._gens[name] = gen
        return gen


def replicate_seeds(master_seed: int, n: int) -> list[int]:
    """Seeds for replicates 0..n-1 derived from one master seed by SeedSequence.spawn.

    Replicate i gets the same seed in every scenario (common random numbers), and the
    seeds do not depend on n: asking for more replicates keeps the first ones.
    """
    children = np.random.SeedSequence(master_seed).spawn(n)
    return [int(c.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1)) for c in children]
