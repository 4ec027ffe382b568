"""Atomistic descriptors: Behler ACSF and weighted ACSF (wACSF) in vectorized torch.

``primitives`` (cutoff, Gaussians, pairs to triples, grids, monomials), ``acsf`` (the ACSF module and
its equations), ``angular`` (the angular terms: triples or moments), ``standardize`` (FeatureStandardizer).
"""
from .acsf import ACSF
from .primitives import cosine_cutoff, neighbor_pairs_to_triples
from .standardize import FeatureStandardizer

__all__ = ["ACSF", "FeatureStandardizer", "cosine_cutoff", "neighbor_pairs_to_triples"]
