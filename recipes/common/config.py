"""Checks of the settings every recipe shares, with the command-line flag in each message.

A recipe's ``Config`` dataclass calls ``validate(self)`` from ``__post_init__``; fields a
recipe does not have are skipped.
"""

from recipes.common import pruning


def comma_floats(flag, text):
    """``"0.1,0.2"`` -> ``(0.1, 0.2)``; ValueError naming `flag` for a non-number."""
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{flag} must be a comma list of numbers, got {text!r}.") from None


def comma_ints(flag, text):
    """``"0,1,2"`` -> ``(0, 1, 2)``; ValueError naming `flag` for a non-integer."""
    try:
        return tuple(int(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise ValueError(f"{flag} must be a comma list of integers, got {text!r}.") from None


def _flag(name):
    return "--" + name.replace("_", "-")


def _at_least_one(cfg, names):
    for name in names:
        if hasattr(cfg, name) and int(getattr(cfg, name)) < 1:
            raise ValueError(f"{_flag(name)} must be >= 1, got {getattr(cfg, name)}.")


def validate(cfg, known_models=("gru", "egru")):
    """Raises ValueError naming the flag for a shared setting out of range."""
    _at_least_one(cfg, ("epochs", "egru_epochs", "units", "batch_size"))
    copies = getattr(cfg, "augment_copies", None)
    if copies is not None and copies < 0:
        raise ValueError(f"--augment-copies must be >= 0, got {copies}.")
    if not 0.0 <= cfg.target_sparsity < 1.0:
        raise ValueError(f"--target-sparsity must be in [0, 1), got {cfg.target_sparsity}.")
    if cfg.activity_reg < 0:
        raise ValueError(f"--activity-reg must be >= 0, got {cfg.activity_reg}.")
    if not 0.0 <= cfg.prune_begin < cfg.prune_end < 1.0:
        raise ValueError(f"need 0 <= --prune-begin < --prune-end < 1, got "
                         f"{cfg.prune_begin} and {cfg.prune_end}.")
    block = getattr(cfg, "prune_block", 1)
    pruning.check_block(block)
    if hasattr(cfg, "units") and (3 * cfg.units) % block:
        raise ValueError(f"--prune-block {block} must divide the 3 x --units = "
                         f"{3 * cfg.units} output columns of the EGRU's kernels.")
    _at_least_one(cfg, ("calibration_clips", "stream_check_clips"))
    bad = [s for s in getattr(cfg, "sweep", ()) if not 0.0 <= s < 1.0]
    if bad:
        raise ValueError(f"--sweep sparsities must be in [0, 1), got {bad}.")
    unknown = set(cfg.models) - set(known_models)
    if unknown:
        raise ValueError(f"--models {sorted(unknown)} unknown; choose from "
                         f"{', '.join(known_models)}.")
