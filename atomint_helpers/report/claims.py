"""What every chapter's verdicts share: the quick-profile note, number formatting, the "not comparable"
rules (quick profile, checkpoints still training, too few folds) and the rows-as-table helper.

The claims themselves live per chapter: :mod:`.energies` (Fig. 2 and §1), :mod:`.rings` (Fig. 3),
:mod:`.charges` (Fig. 4), :mod:`.probe` (Fig. 5), :mod:`.esp` (Fig. 6), :mod:`.embeddings` (Fig. 7),
:mod:`.table1`, :mod:`.training`, :mod:`.data` and :mod:`.explain`. A verdict is ``None`` (not comparable)
when the run cannot decide: the ``quick`` profile (4-epoch models trained on 1,000 sample molecules, whose
latent terms say nothing about the paper's models), a checkpoint that is still training (its weights are
the best so far) or, for the fold claims, fewer than two folds.
"""
from __future__ import annotations

import numpy as np

from ..interpret.atom_terms import MODEL_LABELS
from .findings import join

#: a chapter run on a reader's own molecules (or another probe, or one model) draws its figures and decides
#: none of the paper's claims: they are sentences about the molecules of the paper's figure
OWN_MOLECULES_NOTE = ("**No verdicts on these molecules.** The paper's sentences are about the molecules of its {figure} "
                      "({names}) with {setup}; this run uses other input, so it draws the maps and records no scorecard "
                      "rows (run the chapter with its default parameters for the verdicts).")


def own_molecules_note(figure: str, names, setup: str) -> str:
    """Markdown saying why a chapter run on other input than the paper's figure has no scorecard rows."""
    return OWN_MOLECULES_NOTE.format(figure=figure, names=", ".join(names), setup=setup)


QUICK_NOTE = ("quick profile: 4-epoch models trained on 1,000 sample molecules — the numbers exercise the "
              "code, they say nothing about the paper's models")


def format_significant(x, digits: int = 3) -> str:
    """``x`` to ``digits`` significant digits, or ``n/a`` for None, NaN or infinity."""
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{x:.{digits}g}"


def verdict_and_note(ok: bool | None, quick: bool, why_none: str | None = None) -> tuple[bool | None, str]:
    """``(verdict, note)``: no verdict on quick-profile models (note :data:`QUICK_NOTE`) or where ``why_none``
    says why not (note ``why_none``), else ``ok`` with an empty note."""
    if quick:
        return None, QUICK_NOTE
    if why_none:
        return None, why_none
    return bool(ok), ""


def still_training_note(*studies, models=None) -> str | None:
    """Why no verdict can be given while checkpoints of ``studies`` are still training (their weights are the
    best so far); ``models`` (e.g. ``("bp",)``): only checkpoints of these models count. ``None``: none is."""
    names = [n for st in studies if st is not None for n in st.fold_set.in_progress
             if models is None or any(n.startswith(f"{m}-") for m in models)]
    if not names:
        return None
    return f"preliminary: {', '.join(names)} still training, a verdict on unfinished models would be premature"


def too_few_folds_note(study, models=("bp", "schnet")) -> str | None:
    """Why the fold claims cannot be decided: a model of ``models`` with fewer than two folds in ``study``
    (``None``: every model has two or more)."""
    few = [f"{MODEL_LABELS[m]} has {study.n_folds(m)} fold{'' if study.n_folds(m) == 1 else 's'}"
           for m in models if study.n_folds(m) < 2]
    return ("needs ≥ 2 folds per model; " + ", ".join(few)) if few else None


def as_table(rows):
    """The rows as a display DataFrame (see :func:`~atomint_helpers.report.scorecard.display_table`)."""
    from .scorecard import display_table

    return display_table(rows)


# ------------------------------------------------------------------------------------------ "What we see"
def run_caveat(quick: bool, *studies) -> str:
    """The italic line opening a chapter's "What we see" on models that do not stand for the paper's:
    quick-profile models, or checkpoints still training (named); empty for finished ``cpu`` or ``paper`` runs."""
    if quick:
        return ("*These are quick-profile models (4 epochs on 1,000 sample molecules): the numbers show what the "
                "analysis does, not what the paper's models learned.*")
    names = [x for st in studies if st is not None for x in st.fold_set.in_progress]
    if names:
        return (f"*Preliminary: {join(names)} {'is' if len(names) == 1 else 'are'} still training; the numbers "
                f"below come from the best weights so far.*")
    return ""


def dash_or(x, spec: str) -> str:
    """A number for a reading table, formatted with ``spec`` (e.g. ``".4f"``), or a dash where there is
    none yet (None or NaN: a run still training)."""
    return "—" if x is None or x != x else format(float(x), spec)


def group_name(element: str, neighbours: int) -> str:
    """A group of atoms in words: ``C with 2 neighbours``, ``N with 1 neighbour``."""
    return f"{element} with {neighbours} neighbour{'s' if neighbours != 1 else ''}"
