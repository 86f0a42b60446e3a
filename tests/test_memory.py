"""A finished model is freed: no reference cycle escapes the garbage collector.

Batch workers run hundreds of models in one process, so a model that stays alive after its
last reference is dropped would grow memory without bound (numpy object arrays, for
example, are invisible to the cycle collector and once held the Family handles).
"""

import gc
import weakref

from sim.model import CaseloadModel


def test_model_is_collected_after_use() -> None:
    model = CaseloadModel(scale=0.1, rng=1)
    for _ in range(6):
        model.step()
    ref = weakref.ref(model)
    del model
    gc.collect()
    assert ref() is None
