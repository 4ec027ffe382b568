"""Everything that reads a trained model (see ARCHITECTURE.md).

* :mod:`.latent`  — per-atom latent energies / charges over a data set, fold and model statistics
* :mod:`.rings`   — 6-membered carbon rings and their summed atomic energies (RDKit)
* :mod:`.claims`  — the paper's qualitative claims of section 3.1, measured
* :mod:`.explain` — ``atomint explain``: one molecule, per-atom terms of one or more models
* the spatial modules (probe potential, electrostatic potential, cube files) and the element
  embeddings live beside them

The modules are imported on demand (``from atomint_helpers.interpret import latent``) so that the
command line stays fast and RDKit is only needed for the rings.
"""
