"""Everything that reads a trained model (see ARCHITECTURE.md).

* :mod:`.atom_terms` — per-atom latent energies / charges over a data set, cached per checkpoint;
  :mod:`.latent_stats` — per-element summaries, the W1/IQR distance across folds and models;
  :mod:`.latent_study` — every checkpoint of a target over the same molecules, and its tables;
  :mod:`.charge_signs` — the sign of a dipole model's charges against QM9's Mulliken charges
* :mod:`.energy_partition` — carbon environments (η²), fold pairs and outlying folds (Fig. 2)
* :mod:`.saliency` — input gradients |∂E/∂R_i| at relaxed and distorted geometries (§1)
* :mod:`.rings`   — 6-membered carbon rings and their summed atomic energies (RDKit); :mod:`.ring_stats`
  — fold spread and stability of the ranking, scores relative to the mean carbon (Fig. 3)
* :mod:`.evaluation` — test-set errors of checkpoints (Table 1, across folds), read by the report, the
  Table 1 chapter and ``atomint evaluate``
* the spatial modules (probe potential, electrostatic potential, cube files) and the element
  embeddings live beside them

The modules are imported on demand (``from atomint_helpers.interpret import atom_terms``) so that the
command line stays fast and RDKit is only needed for the rings.
"""
