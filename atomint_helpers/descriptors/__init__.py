"""Atomistic descriptors: Behler ACSF and weighted ACSF (wACSF) in vectorized torch."""
from .acsf import ACSF, FeatureStandardizer, cosine_cutoff, neighbor_pairs_to_triples

__all__ = ["ACSF", "FeatureStandardizer", "cosine_cutoff", "neighbor_pairs_to_triples"]
