"""Everything that reads a trained model (see ARCHITECTURE.md).

* :mod:`.latent`  — per-atom latent energies / charges over a data set, fold and model statistics
  (one import for the code in ``atom_terms``, ``latent_stats``, ``latent_study``, ``charge_signs``)
* :mod:`.energy_partition` — carbon environments (η²), fold pairs and outlying folds (Fig. 2)
* :mod:`.saliency` — input gradients |∂E/∂R_i| at relaxed and distorted geometries (§1)
* :mod:`.rings`   — 6-membered carbon rings and their summed atomic energies (RDKit); :mod:`.ring_stats`
  — fold spread and stability of the ranking, scores relative to the mean carbon (Fig. 3)
* :mod:`.explain` — ``atomint explain``: one molecule, per-atom terms of one or more models
* :mod:`.projection` — where a run still training is heading, read from its epoch log against a finished
  run of the same fixed-end schedule
* the spatial modules (probe potential, electrostatic potential, cube files) and the element
  embeddings live beside them

The modules are imported on demand (``from atomint_helpers.interpret import latent``) so that the
command line stays fast and RDKit is only needed for the rings.
"""
