"""A small generated corpus (standard-library docstrings, PTB layout) shared by the LM tests."""

import pytest


@pytest.fixture(scope="session")
def lm_corpus(tmp_path_factory):
    """About 20k training tokens (a few seconds to build)."""
    from recipes.lm import generate

    root = tmp_path_factory.mktemp("lm") / "data"
    generate.build(str(root), max_tokens=20000)
    return str(root)
