"""Shared fixtures: a tiny generated dataset in the Speech Commands layout."""


import pytest

# The tiny dataset's generator parameters; tests derive expected counts from them
# (``generate.plan(**TINY)``) instead of restating numbers.
TINY = dict(seed=3, n_speakers=6, repeats=1, unknown_per_speaker=1, heldout_repeats=1,
            heldout_unknown_per_speaker=1)


@pytest.fixture(scope="session")
def tiny_plan():
    """(generator parameters, jobs, speaker split) of ``tiny_dataset``."""
    from recipes.kws.generate import plan

    jobs, split = plan(**TINY)
    return TINY, jobs, split


@pytest.fixture(scope="session")
def tiny_dataset(tmp_path_factory):
    """6 speakers x (10 keywords + 1 unknown word): 66 clips, about 1 s to generate."""
    from prereq import require_tools
    require_tools("espeak-ng", fix="make install-apt")
    from recipes.kws.generate import generate

    root = tmp_path_factory.mktemp("kws") / "data"
    generate(str(root), workers=1, verbose=False, **TINY)
    return root
