"""caseload-sim: social-facilitator workforce planning for Kabupaten Bekasi (PKH, BPNT/Sembako).

Example::

    from sim import CaseloadModel

    model = CaseloadModel(profile="paper-2023", scale=0.1, rng=1)
    for _ in range(36):
        model.step()
    regency, districts = model.regency_table(), model.district_table()
"""

from sim.model import CaseloadModel

__version__ = "0.1.0"
__all__ = ["CaseloadModel", "__version__"]
