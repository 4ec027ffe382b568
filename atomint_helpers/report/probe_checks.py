"""The probe implementation's own promises, checked on every build (implementation rows, not the paper's claims):
a probe atom only receives messages, so the molecule's atomic energies do not change when it is added, and
the batched grid evaluation is the model's plain forward pass with the probes appended."""
from __future__ import annotations

from .registry import Claim, Measurement, Test, decide

#: the implementation's own promises (not the paper's): a probe only receives messages, and the batched grid
#: is the plain forward pass
PROBE_TOLERANCE = 1e-4  # kcal/mol: float32 rounding of energies of tens to hundreds of kcal/mol
NO_BACK_ACTION = Claim(
    "probe.no-back-action", "", "", "A probe atom does not act back on the molecule (its atoms' energies unchanged)",
    kind="implementation", tests=(Test("largest change", "the largest |ΔE_i| of the molecule's atoms with the probes "
                                       "appended", PROBE_TOLERANCE, "below", "kcal/mol"),))
BATCHED_EXACT = Claim(
    "probe.batched-exact", "", "", "The batched probe grid equals the model's plain forward pass with the probes "
    "appended", kind="implementation",
    tests=(Test("largest difference", "the largest |ΔE| between the two", PROBE_TOLERANCE, "below", "kcal/mol"),))


def implementation_rows(exactness) -> list[dict]:
    """The two rows from the notebook's exactness table (its second column: batched − plain; its last: the
    molecule's atoms' largest |ΔE_i|; kcal/mol)."""
    mol_col, batched_col = exactness.columns[-1], exactness.columns[1]
    return [decide(NO_BACK_ACTION, "", {"largest change": Measurement(float(exactness[mol_col].max()))},
                   note="toluene's atoms with a plane of carbon probes appended, both models").row(),
            decide(BATCHED_EXACT, "", {"largest difference": Measurement(float(exactness[batched_col].max()))},
                   note="over the grid points and both models (float32)").row()]
