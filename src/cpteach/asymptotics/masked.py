"""The masked operator K_M = M_D K M_P of docs/theory.md, section 4D, as a matrix on the active entries."""
from __future__ import annotations

import numpy as np

from ..operators import check_operator

__all__ = ["masked_operator"]


def _check_masks(K, M_P, M_D, caller):
    """Unbatched 0/1 masks M_P (shape K.shape_in) and M_D (shape K.shape_out), as bool arrays."""
    check_operator(K)
    out = []
    for name, m, shape in (("M_P", M_P, K.shape_in), ("M_D", M_D, K.shape_out)):
        m = np.asarray(m)
        if m.dtype != bool and not np.issubdtype(m.dtype, np.number):
            raise TypeError(f"{name} must be a 0/1 (bool) mask array (4.1), got dtype {m.dtype}")
        if m.shape != tuple(shape):
            raise ValueError(f"{caller} needs unbatched masks: {name} of shape {tuple(shape)}, got {m.shape}; "
                             "pass the masks of one problem, e.g. from asymptotics.solution_masks")
        if m.dtype != bool and not np.all((m == 0) | (m == 1)):
            raise ValueError(f"{name} must hold only 0 and 1 (a mask (4.1)), got values {np.unique(m)[:5]}")
        out.append(m.astype(bool))
    return tuple(out)


def _masked_matrix(K, M_P, M_D, chunk=64):
    """Rows M_D = 1 and columns M_P = 1 of the matrix of K (bool masks of the right shapes).

    Column j is K e_j restricted to the rows M_D = 1, computed ``chunk`` columns at a time, so that
    an operator with many rows (a filter bank) never needs its whole dense matrix.
    """
    cols, rows = np.flatnonzero(M_P), np.flatnonzero(M_D)
    B = np.empty((rows.size, cols.size))
    for start in range(0, cols.size, chunk):
        E = np.zeros((min(chunk, cols.size - start), K.size_in))
        E[np.arange(E.shape[0]), cols[start:start + chunk]] = 1.0
        B[:, start:start + E.shape[0]] = K.apply(E.reshape((-1,) + tuple(K.shape_in))).reshape(E.shape[0], -1)[:, rows].T
    return B


def masked_operator(K, M_P, M_D):
    """The matrix B of the masked operator K_M = M_D K M_P : V_P -> V_D of section 4D.

    B holds the rows of K with M_D = 1 and the columns with M_P = 1 (in flattened order),
    so that K_M q = M_D K q for q in V_P = range(M_P) reads B q[M_P] on the active entries.
    Works for any operator (the matrix of K is built column by column from ``K.apply``),
    densely: for teaching sizes.

    Parameters
    ----------
    K : cpteach.operators operator
    M_P : bool array of shape K.shape_in, M_D : bool array of shape K.shape_out (the masks (4.1))

    Returns
    -------
    array of shape (M_D.sum(), M_P.sum())

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.FiniteDifference(3)                   # K u = [[u1 - u0, u2 - u1, 0]]
    >>> masked_operator(K, np.array([True, True, False]), np.array([[True, True, False]]))
    array([[-1.,  1.],
           [ 0., -1.]])
    """
    M_P, M_D = _check_masks(K, M_P, M_D, "masked_operator")
    return _masked_matrix(K, M_P, M_D)
