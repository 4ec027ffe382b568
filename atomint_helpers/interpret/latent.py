"""Latent per-atom terms of a trained model over a data set, and statistics across folds and models.

Both models of the paper write their prediction as a sum over atoms: the energy as ``E = Σ_i E_i``
(atomic energies, kcal/mol, on the atomization-energy scale) and the dipole moment as
``μ = Σ_i q_i r_i`` (partial charges, e). :func:`latent_terms` returns these terms as one table row per
atom, computed in batches (no per-molecule Python) for any model and any data: the QM9 set (full or the
embedded sample), an :class:`~atomint_helpers.data.batch.AtomsData`, or a user's own ``ase.Atoms``.

Comparing distributions
-----------------------
Fold-to-fold and model-to-model differences are measured with :func:`fold_distance`: the
Wasserstein-1 distance (earth mover's distance, ``scipy.stats.wasserstein_distance``) between two
distributions of the same element's latent terms, divided by their **pooled interquartile range**
(the mean of the two IQRs). The ratio has no unit, so energies (kcal/mol) and charges (e) can be
compared on one scale: 0 means identical distributions, 0.1 means the mass has to move on average by a
tenth of a typical width to turn one into the other. The IQR, not the standard deviation, is the
spread because BP gives a handful of atoms extreme latent energies: they inflate a standard deviation
by orders of magnitude and would make any two distributions look alike.


Where the code lives (every name stays importable from here)
-----------------------------------------------------------
``atom_terms``    the terms themselves, batches, the on-disk cache of a checkpoint's terms
``latent_stats``  per-element summaries and the W1/IQR distance across folds and models
``latent_study``  :class:`Study` (every checkpoint of a target over the same molecules) and its tables
``charge_signs``  the sign of a dipole model's charges against QM9's Mulliken charges
"""
from __future__ import annotations

from ..data.batch import ACSF_KEY, AtomsData, molecule_pairs, periodic_pairs, ranges  # noqa: F401
from ..data.bonds import COV_FACTOR, neighbour_counts  # noqa: F401
from ..store import FoldSet, find_folds  # noqa: F401  (store owns finding; re-exported for old callers)
from .atom_terms import (FIG_ELEMENTS, LATENT, MODEL_LABELS, MODEL_ORDER, terms_cache_path, cached_qm9_data,  # noqa: F401
                         _resolve, atoms_data, checkpoint_terms, held_out_ids, inference_threads, latent_column,
                         latent_terms, latent_unit, latent_values, molecule_sums, other_runnable_tasks,
                         per_atom_array, target_of)
from .charge_signs import mulliken_table, orient_charges, sign_agreement  # noqa: F401
from .latent_stats import (_z_of, element_summary, fold_distance, fold_distances, fold_table,  # noqa: F401
                           mean_over_folds, model_distances, pooled_std, values_of)
from .latent_study import (MAX_MOLECULES, Study, analysis_rows, counts_table, fold_tables,  # noqa: F401
                           noise_floor, study, try_study)
