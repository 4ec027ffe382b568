"""``atomint models``: the checkpoints atomint finds, where names such as ``schnet-energy-cpu`` resolve.

Folders searched, first match wins: ``$ATOMINT_MODELS``, ``./models``, the repository's ``models/``
(``--models-dir`` replaces them). One row per checkpoint: name, model, target, training profile, fold,
recorded test MAE with its unit (kcal/mol, D or eV/atom), status. ``--adopt EXTENSION`` moves the finished
runs of a declared extension (``atomint train ... --extend EXTENSION``) from ``<models-dir>/next/`` over the
committed folders, all of them or none.
"""
from __future__ import annotations

from .. import MissingError, store
from ..training import extension
from .output import add_json_option, emit_json, say

_COLUMNS = (("name", "checkpoint"), ("model", "model"), ("target", "target"), ("profile", "profile"),
            ("fold", "fold"), ("test_mae", "test MAE"), ("status", "status"))


def _cell(row: dict, key: str) -> str:
    if key == "test_mae":
        return "—" if row["test_mae"] is None else f"{row['test_mae']:.4g} {row['unit'] or ''}".strip()
    if key == "status":
        return str(row["status"] or "?").split(" (")[0]
    return "?" if row[key] is None else str(row[key])


def format_models(rows: list[dict]) -> str:
    """The checkpoints as an aligned text table."""
    body = [[_cell(r, k) for k, _ in _COLUMNS] for r in rows]
    heads = [h for _, h in _COLUMNS]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(heads)]
    return "\n".join("  ".join(v.ljust(w) for v, w in zip(line, widths)).rstrip() for line in [heads, *body])


def _cli_models(args) -> int:
    if args.adopt:
        adopted = extension.adopt(args.models_dir or "models", extension.get_extension(args.adopt))
        say(args, "\n".join(f"adopted {f.name} (extension {args.adopt})" for f in adopted))
        emit_json(args, {"adopted": [str(f) for f in adopted]})
        return 0
    places = store.model_dirs(args.models_dir)
    rows = store.catalogue(args.models_dir)
    if not rows:
        raise MissingError(f"no checkpoints found; looked in {', '.join(map(str, places))} (set ATOMINT_MODELS "
                           f"to a folder of checkpoints, or train one: atomint train --model schnet --target "
                           f"energy --profile quick)")
    say(args, f"searched: {', '.join(map(str, places))}", format_models(rows))
    emit_json(args, {"searched": [str(p) for p in places], "checkpoints": rows})
    return 0


def add_cli(sub) -> None:
    p = sub.add_parser("models", help="list the checkpoints found and where names resolve",
                       description=__doc__.split("\n\n")[0])
    p.add_argument("--models-dir", default=None, metavar="DIR",
                   help="list only this folder of checkpoints (default: $ATOMINT_MODELS, ./models, the "
                        "repository's models/)")
    p.add_argument("--adopt", default=None, choices=list(extension.EXTENSIONS), metavar="EXTENSION",
                   help="move every finished run of this extension from <models-dir>/next/ over its committed "
                        "folder (default folder: models), all or none, and rewrite INDEX.md; accepted: "
                        f"{', '.join(extension.EXTENSIONS)}")
    add_json_option(p, "the list (one object per checkpoint)")
    p.set_defaults(func=_cli_models)
