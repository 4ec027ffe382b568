"""A checkpoint loaded: its weights and config verified against its provenance, the model rebuilt, and a
dipole model given its charge sign (:mod:`.signs`). What was loaded is recorded in the model's declared
``loaded_from`` (:class:`~atomint_helpers.models.LoadedFrom`)."""
from __future__ import annotations

import os
from pathlib import Path

from .. import AtomintError, MissingError
from ..io import sha256_file
from .commit import reading
from .files import CONFIG, PROVENANCE, WEIGHTS, read_json, safe_torch_load
from .record import config_sha256
from .signs import apply_charge_sign


def verify_checkpoint(folder: Path, config: dict, prov: dict, weights: Path) -> str:
    """Refuse a checkpoint whose weights or config are not the ones its provenance records (a missing
    record is a refusal too: an emptied provenance must not turn the check off). ``weights`` is the
    weights file of the save being read; returns its sha256."""
    folder = Path(folder)
    recorded = {k: prov.get(k) for k in ("weights_sha256", "config_sha256")}
    if not recorded["weights_sha256"]:
        raise AtomintError(f"checkpoint {folder} cannot be verified: {PROVENANCE} records no weights_sha256 "
                           f"(emptied or not written by atomint); restore it from git or train the model again")
    if not recorded["config_sha256"]:
        raise AtomintError(f"checkpoint {folder} cannot be verified: {PROVENANCE} records no config_sha256 "
                           f"(written before atomint hashed configs); migrate it with `python -m "
                           f"atomint_helpers.store.migrate {folder}` or train the model again")
    if not Path(weights).is_file():
        raise MissingError(f"checkpoint file {folder / WEIGHTS} is missing")
    weights_sha256 = sha256_file(weights)
    for name, actual, expected in ((WEIGHTS, weights_sha256, recorded["weights_sha256"]),
                                   (CONFIG, config_sha256(config), recorded["config_sha256"])):
        if actual != expected:
            raise AtomintError(f"checkpoint file {folder / name} does not match {PROVENANCE} "
                               f"(sha256 {actual[:12]}…, recorded {str(expected)[:12]}…): tampered or replaced; "
                               f"restore it from git or train the model again")
    return weights_sha256


def load_model(folder: str | os.PathLike, verify: bool = True, orient: bool = True):
    """Rebuild a model from a checkpoint folder and load its best weights (``weights_only=True``).

    With ``verify``, the sha256 of the weights and of the config must match those recorded in
    ``provenance.json``; a tampered file, or a provenance that records no hash, is refused.
    With ``orient``, a dipole model's charges get the checkpoint's charge sign (:func:`.signs.apply_charge_sign`);
    without it they keep the sign they were trained with. ``model.loaded_from`` records the folder, the
    weights' sha256 and the charge sign applied.
    """
    from ..models import LoadedFrom, build

    folder = Path(folder)
    if not folder.is_dir():
        raise MissingError(f"checkpoint folder {folder} does not exist (see models/INDEX.md for the committed ones)")
    with reading(folder) as path:  # all files of one complete save
        config = read_json(path(CONFIG))
        for key in ("model", "target"):
            if key not in config:
                raise AtomintError(f"checkpoint file {folder / CONFIG} lacks the key {key!r}")
        weights_sha256 = (verify_checkpoint(folder, config, read_json(path(PROVENANCE)), path(WEIGHTS))
                          if verify else None)
        state = safe_torch_load(path(WEIGHTS))
        if weights_sha256 is None:
            weights_sha256 = sha256_file(path(WEIGHTS))
    model = build(config)
    try:
        model.load_state_dict(state)
    except RuntimeError as e:
        raise AtomintError(f"checkpoint file {folder / WEIGHTS} does not fit {folder / CONFIG}: "
                           f"{str(e).splitlines()[0][:200]}") from None
    model.eval()
    charge_sign = apply_charge_sign(model, weights_sha256) if orient and config["target"] == "dipole" else None
    model.loaded_from = LoadedFrom(folder, weights_sha256, charge_sign)
    return model
