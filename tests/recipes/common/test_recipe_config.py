"""recipes/common/config.py: each shared setting out of range names its flag; settings a
recipe does not have are skipped."""

import dataclasses

import pytest

from recipes.common import config


@dataclasses.dataclass
class Minimal:
    """A recipe without augmentation, egru_epochs or sweep."""

    epochs: int = 1
    units: int = 4
    target_sparsity: float = 0.5
    activity_reg: float = 0.0
    prune_begin: float = 0.1
    prune_end: float = 0.6
    calibration_clips: int = 1
    stream_check_clips: int = 1
    models: tuple = ("egru",)


def test_valid_minimal_config_passes():
    config.validate(Minimal())


@pytest.mark.parametrize("change,message", [
    (dict(epochs=0), "--epochs must be >= 1, got 0"),
    (dict(units=-2), "--units must be >= 1, got -2"),
    (dict(target_sparsity=1.0), r"--target-sparsity must be in \[0, 1\), got 1.0"),
    (dict(activity_reg=-0.5), "--activity-reg must be >= 0"),
    (dict(prune_begin=0.6, prune_end=0.6), "need 0 <= --prune-begin < --prune-end < 1"),
    (dict(calibration_clips=0), "--calibration-clips must be >= 1"),
    (dict(models=("egru", "lstm")), r"--models \['lstm'\] unknown; choose from gru, egru"),
])
def test_each_bad_setting_names_its_flag(change, message):
    with pytest.raises(ValueError, match=message):
        config.validate(dataclasses.replace(Minimal(), **change))


def test_known_models_are_a_parameter():
    config.validate(Minimal(models=("lstm",)), known_models=("lstm",))
