"""Notebook 03a's exercise delta_P_limit (theory (4.3)), student code written from the mathematics: correct answers in
several forms (CORRECT) and typical mistakes with the words their message must contain (MISTAKES);
tests/test_exercises_tally.py runs them against the checkers."""
import numpy as np
import scipy.linalg

from cpteach import exercises



def _project(A, e):
    N = scipy.linalg.null_space(A)
    return N @ (N.T @ e)


def _limit(K, P, D, e, *, rows=None, after=False, basis=scipy.linalg.null_space):
    B = K[np.ix_(D if rows is None else rows(D), P)]
    N = basis(B)
    out = np.zeros(K.shape[1])
    out[P] = N @ (N.T @ e[P])
    return out


def _limit_svd(K, P, D, e):
    B = K[np.ix_(D, P)]
    _, s, Vt = np.linalg.svd(B)
    r = int(np.sum(s > 1e-10 * s.max()))
    N = Vt[r:].T
    out = np.zeros_like(e)
    out[P] = N @ (N.T @ e[P])
    return out


def _limit_pinv(K, P, D, e):
    B = K[np.ix_(D, P)]
    out = np.zeros(K.shape[1])
    out[P] = e[P] - np.linalg.pinv(B) @ (B @ e[P])          # remove the row-space component
    return out


def _limit_float32(K, P, D, e):
    return _limit(K.astype(np.float32), P, D, e.astype(np.float32))


def _limit_inplace(K, P, D, e):
    N = scipy.linalg.null_space(K[D][:, P])
    e[~P] = 0.0
    e[P] = N @ (N.T @ e[P])
    return e


def _limit_indices(K, P, D, e):
    rows, cols = np.flatnonzero(D), np.flatnonzero(P)
    N = scipy.linalg.null_space(K[rows][:, cols])
    out = np.zeros(len(e))
    out[cols] = N @ N.T @ e[cols]
    return list(out)


def _complement(K, P, D, e):
    B = K[np.ix_(D, P)]
    _, s, Vt = np.linalg.svd(B)
    N = Vt[:len(s)].T                                          # the row space, not the null space
    out = np.zeros_like(e)
    out[P] = N @ (N.T @ e[P])
    return out


def _swapped_masks(K, P, D, e):
    N = scipy.linalg.null_space(K[np.ix_(P, D)])
    out = np.zeros(K.shape[1])
    out[P] = N @ (N.T @ e[P])
    return out


def _unmasked_kernel(K, P, D, e):
    out = np.zeros(K.shape[1])
    out[P] = _project(K[:, P], e[P])
    return out


def _swapped_mask_products(K, P, D, e):
    A = P[:, None] * K * D[None, :]                            # M_D K M_P with the masks swapped
    N = scipy.linalg.null_space(A)
    return N @ (N.T @ (D * e))


def _swapped_mask_vector(K, P, D, e):
    e_P = D * e                                               # M_D where M_P belongs
    N = scipy.linalg.null_space(K[np.ix_(D, P)])
    out = np.zeros_like(e)
    out[P] = N @ (N.T @ e_P[P])
    return out


DELTA_P_LIMIT_CORRECT = [
    ("null_space", _limit),
    ("SVD", _limit_svd),
    ("pseudo-inverse", _limit_pinv),
    ("float32", _limit_float32),
    ("in place", _limit_inplace),
    ("index arrays, list", _limit_indices),
]
DELTA_P_LIMIT_MISTAKES = [
    ("zero", lambda K, P, D, e: np.zeros(K.shape[1]), "limit is 0 only when"),
    ("P e", lambda K, P, D, e: np.where(P, e, 0.0), "returned M_P e itself"),
    ("ker K", _unmasked_kernel, "you used ker(K)"),
    ("rows where M_D is False", lambda K, P, D, e: _limit(K, P, D, e, rows=lambda D: ~D), "rows where M_D is False"),
    ("no primal mask", lambda K, P, D, e: _project(K[D], e), "ignores the primal mask"),
    ("mask after projecting", lambda K, P, D, e: P * _project(K[D], e), "applied M_P afterwards"),
    ("row space", _complement, "orthogonal to"),
    ("P and D swapped", _swapped_masks, "swap M_P and M_D"),
    ("P and D swapped as products", _swapped_mask_products, "swap M_P and M_D"),
    ("M_D e", _swapped_mask_vector, "swap M_P and M_D"),
    ("e itself", lambda K, P, D, e: e, "non-zero where M_P is False"),
    ("null space of B^T", lambda K, P, D, e: _limit(K, P, D, e, basis=lambda B: scipy.linalg.null_space(B.T)),
     "K^T"),
]

CASES = [(exercises.delta_P_limit, DELTA_P_LIMIT_CORRECT, DELTA_P_LIMIT_MISTAKES)]
