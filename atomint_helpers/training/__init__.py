"""Training: profiles, runs that resume, the epoch loop, the second stage and restart screening.

=================  ====================================================================================
``profiles``       Profile, the quick/cpu/paper settings, the crystal profiles, the ``cpu`` SchNet goals and
                   the fixed-end schedule they are read against
``inputs``         the data set of a profile, a fold's split, BP's precomputed descriptors
``loop``           predictions, metrics, the epoch log (``log.csv``)
``stage2``         weight average, cosine schedule, the Mulliken sign log of dipole runs (``signs.csv``)
``spec``           RunSpec: one run as asked, checked once at :func:`train`; the config and profile it records
``restarts``       restart screening (which seed a dipole run starts from) and its record
``run``            :func:`train`: one run into its checkpoint folder, resumable, with provenance
``lightning``      the ``paper`` profile through PyTorch Lightning
``extension``      declared recipes that continue a finished run (a second cosine cycle), in ``models/next/``,
                   and their adoption over the committed folders (all folds or none)
``parallel``       data-parallel runs on several CPU processes (``--processes N``: DDP, gloo)
``budget``         the schedule of a wall-time budget (``--budget-minutes``) and its recipe
``budget_pilots``  the declared pilots that chose that recipe, and the rule that chose it
=================  ====================================================================================


``atomint train --model {bp,schnet} --target {energy,dipole} --fold K --profile {quick,cpu,paper}``

* ``quick``  — seconds on the embedded sample; what tests, CI and nbval use.
* ``cpu``    — full QM9, 100,000 training molecules, sized for a 2-core CPU (the committed checkpoints).
* ``paper``  — SchNet 128×6 (the SchNet papers' QM9 size; this paper states none), meant for a GPU; run through PyTorch Lightning so
  that several GPUs (DDP) work without code changes (``--devices N``).

``--processes N`` (``quick`` and ``cpu``) trains one run data-parallel on N CPU processes of one torch thread
each (SchNet's interaction blocks compiled in each): every optimizer step splits the same global batch
(the profile's ``batch_size``) between the processes and all-reduces the gradients, so the weights are those
of one process on the same batches, to float rounding. The process the user starts (rank 0) alone writes
the checkpoint folder; the others end with it. See :mod:`.parallel`.

``atomint train --model schnet --target crystals --fold K --profile {quick,cpu,paper}`` trains SchNet with
periodic boundary conditions on the Materials Project formation energies (eV/atom, Fig. 7) into
``schnet-mp-<profile>-fold<K>``; see :data:`CRYSTAL_PROFILES`. The crystal split is drawn over the
``src_index`` ids of the cleaned set (``Crystals.clean()``: the 4 unphysical entries dropped), so it is
the same whichever copy of the data is loaded.

The loss is the mean squared error in the paper's units (kcal/mol for energies, Debye for |μ|);
Adam with the learning rate halved when the validation MAE stops improving, early stopping on the
validation MAE, and the best weights kept. A run saves its folder after every epoch as one unit, so
interrupting it (Ctrl-C, kill) and re-running the same command continues from the last saved epoch
and ends with the same weights as an uninterrupted run (shuffling is seeded per epoch).
"""
from __future__ import annotations

from ..properties import TARGETS
from ..store import run_name
from .inputs import (attach_descriptors, crystal_rows, crystal_split, fold_split, load_crystal_data,
                     load_training_data)
from .loop import LOG_FIELDS, read_log, write_log
from ..models.predict import metrics, predict
from . import extension
from .profiles import (CRYSTAL_ELEMENTS, CRYSTAL_PROFILES, GOALS, PROFILES, Profile, fixed_schedule, get_profile,
                       resolve)
from .restarts import RESTARTS, adopt_candidate, candidate_seeds, read_screening, screen_restarts
from .run import Run, train, train_candidate
from .spec import RunSpec
from .stage2 import SignMonitor, WeightAverage, cosine_lr, read_signs, write_signs

#: per target: the model output trained on, and its unit (from ``properties.TARGETS``)
TARGET_KEYS = {k: t.key for k, t in TARGETS.items()}
UNITS = {k: t.unit for k, t in TARGETS.items()}

__all__ = ["CRYSTAL_ELEMENTS", "CRYSTAL_PROFILES", "GOALS", "LOG_FIELDS", "PROFILES", "RESTARTS", "TARGET_KEYS",
           "UNITS", "Profile", "Run", "RunSpec", "SignMonitor", "WeightAverage", "adopt_candidate", "attach_descriptors",
           "candidate_seeds", "cosine_lr", "extension", "crystal_rows", "crystal_split", "fixed_schedule", "fold_split",
           "get_profile", "load_crystal_data", "load_training_data", "metrics", "predict", "read_log", "read_screening",
           "read_signs", "resolve", "run_name", "screen_restarts", "train", "train_candidate", "write_log", "write_signs"]
