"""Import every lever module so that each registers itself (one module per lever).

The import order is the registry order, which is the order in which levers acting at the
same phase run in a month: supervision and pay first, then moves of facilitators, then
new posts (which see the moved ones), then training and evaluation.
"""

from sim.policies import (  # noqa: F401, I001  (imported for @register, in this order)
    supervision,
    regional_incentive,
    local_redistribution,
    caseload_cap,
    training_platform,
    outcome_evaluation,
)
