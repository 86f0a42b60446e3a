"""Sub-commands for batches, comparisons and sweeps (added by sim.batch when available)."""

from __future__ import annotations

import argparse


def add_commands(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register batch, compare and sweep sub-commands."""
    return None
