"""The fixed-point MFCC step (custom_ops/core/ke_dct_q.c) against the float DCT-II the DS-CNN
baseline trains on (recipes.kws.dscnn.dct_matrix, scipy's orthonormal DCT), through the host
build of the q15 front end library."""
import ctypes

import numpy as np
import pytest

from recipes.kws import dscnn
from recipes.kws.logmel_q import build_library

I16P, I32P = ctypes.POINTER(ctypes.c_int16), ctypes.POINTER(ctypes.c_int32)


@pytest.fixture(scope="module")
def lib():
    lib = ctypes.CDLL(str(build_library()))
    lib.ke_dct_q_basis.argtypes = [ctypes.c_int32, ctypes.c_int32, I16P]
    lib.ke_dct_q.argtypes = [I16P, ctypes.c_int32, I16P, ctypes.c_int32, I32P]
    return lib


def _dct(lib, frames_q10, coeffs):
    frames_q10 = np.ascontiguousarray(frames_q10, np.int16)
    mels = frames_q10.shape[-1]
    basis = np.zeros((coeffs, mels), np.int16)
    assert lib.ke_dct_q_basis(mels, coeffs, basis.ctypes.data_as(I16P)) == 0
    out = np.zeros((len(frames_q10), coeffs), np.int32)
    for i, f in enumerate(frames_q10):
        assert lib.ke_dct_q(f.ctypes.data_as(I16P), mels, basis.ctypes.data_as(I16P), coeffs,
                            out[i].ctypes.data_as(I32P)) == 0
    return out, basis


@pytest.mark.parametrize("mels", [40, 7])  # odd: the scalar tail
def test_matches_the_float_dct_of_the_dscnn(lib, mels):
    rng = np.random.default_rng(0)
    frames = np.concatenate([rng.integers(-32768, 32768, (50, mels)),    # extremes
                             rng.integers(-14200, 3000, (50, mels)),      # log-mel range
                             np.full((1, mels), -14147)]).astype(np.int16)  # silence
    coeffs = min(10, mels)
    got, basis = _dct(lib, frames, coeffs)
    ref = frames.astype(np.float64) @ dscnn.dct_matrix(mels, coeffs).T.astype(np.float64)
    assert np.abs(basis / 32768.0 - dscnn.dct_matrix(mels, coeffs)).max() <= 0.5 / 32768 + 1e-7
    # Q15 basis rounding: <= 0.5 LSB per weight, summed over the bands, + output rounding
    assert np.abs(got - ref).max() <= mels * 32768 * 0.5 / 32768 + 0.5
    exact = (frames.astype(np.int64) @ basis.T.astype(np.int64) + (1 << 14)) >> 15
    assert np.array_equal(got, exact)  # exact 64-bit sums, no wrap


def test_bad_arguments_are_statuses(lib):
    basis = np.zeros(40, np.int16)
    out = np.zeros(2, np.int32)
    x = np.zeros(40, np.int16)
    assert lib.ke_dct_q_basis(0, 1, basis.ctypes.data_as(I16P)) == -2
    assert lib.ke_dct_q_basis(4, 5, basis.ctypes.data_as(I16P)) == -2
    assert lib.ke_dct_q_basis(4, 2, None) == -1
    assert lib.ke_dct_q(None, 4, basis.ctypes.data_as(I16P), 2, out.ctypes.data_as(I32P)) == -1
    assert lib.ke_dct_q(x.ctypes.data_as(I16P), 129, basis.ctypes.data_as(I16P), 2,
                        out.ctypes.data_as(I32P)) == -2
