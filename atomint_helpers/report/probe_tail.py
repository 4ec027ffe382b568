"""Fig. 5's far field in words: what the cuts show between the blue well around the molecule and the model's
cutoff (the faint outer rings and crescents), measured on the figure's own cut values."""
from __future__ import annotations

import numpy as np

#: shells of the distance to the nearest atom (Å) in which the far field is described
FAR_FROM = 3.0
SHELL = 0.25


def far_field(panels: list[dict], model: str, far_from: float = FAR_FROM, shell: float = SHELL) -> dict:
    """Ω − Ω(∞) (kcal/mol) on one model's cuts at points ``far_from`` Å or more from every atom, pooled over
    the molecules: ``low``/``high`` (5th and 95th percentiles), the largest shell mean ``peak`` and its
    distance ``at`` (Å, the shell's middle; shells of ``shell`` Å of the distance to the nearest atom), the
    model's ``cutoff`` (Å) and ``beyond`` (largest |Ω − Ω(∞)| at the cutoff or farther)."""
    ps = [p for p in panels if p["model"] == model]
    d = np.concatenate([np.linalg.norm(p["cut"].points.reshape(-1, 3)[:, None] - p["atoms"].positions[None],
                                       axis=-1).min(1) for p in ps])
    v = np.concatenate([np.asarray(p["cut_values"], dtype=np.float64).ravel() for p in ps])
    cutoff = float(ps[0]["potential"].cutoff)
    far = (d >= far_from) & (d < cutoff) & np.isfinite(v)
    edges = np.arange(far_from, cutoff + 1e-9, shell)
    means = [(float(v[far & (d >= a) & (d < a + shell)].mean()), a + shell / 2) for a in edges[:-1]
             if (far & (d >= a) & (d < a + shell)).any()]
    peak, at = max(means, key=lambda m: abs(m[0])) if means else (float("nan"), float("nan"))
    outside = np.isfinite(v) & (d >= cutoff)
    low, high = np.percentile(v[far], [5, 95]) if far.any() else (float("nan"), float("nan"))
    return {"low": float(low), "high": float(high), "peak": peak, "at": at, "cutoff": cutoff,
            "beyond": float(np.abs(v[outside]).max()) if outside.any() else float("nan")}


def far_field_sentence(panels: list[dict], model: str) -> str:
    """One sentence for Fig. 5's caption: the size and place of the far-field bands of the cuts and where
    they end (the cutoff)."""
    f = far_field(panels, model)
    if not np.isfinite(f["peak"]):
        return ""
    low, high, peak = (f"{f[k]:+.2f}".replace("-", "−") for k in ("low", "high", "peak"))
    return (f"The faint outer rings and crescents of the cuts are the far field: {FAR_FROM:g} Å or more from every "
            f"atom Ω − Ω(∞) stays between {low} and {high} kcal/mol (5th–95th percentile), "
            f"largest on average ({peak} kcal/mol) about {f['at']:.1f} Å from the nearest atom, and "
            f"goes to 0 at the model's {f['cutoff']:g} Å cutoff, beyond which the probe sees no atom; the "
            "doubling levels make these small values visible as bands.")


__all__ = ["far_field", "far_field_sentence"]
