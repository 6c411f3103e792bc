"""The closed form (4.11) of the limit of the unrolled gradient for unique primal and dual solutions
(docs/theory.md, section 4D, from the summed recursion (4.10))."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from .masked import _check_masks, _masked_matrix

__all__ = ["ClosedFormLimit", "closed_form_limit"]


@dataclass(frozen=True)
class ClosedFormLimit:
    """The limit (4.11) of the unrolled gradient for unique primal and dual solutions.

    ``sigma_Delta_D`` is sigma Delta_D of (4.10), the solution of K_M^T (sigma Delta_D) = -M_P e*
    (zero where M_D = 0; shape K.shape_out); Delta_P = 0. ``grad_K`` = sigma Delta_D x*^T
    = -(K_M^{-T} M_P e*) x*^T (4.5), (4.11), of the shape of K.params.
    """

    grad_K: np.ndarray
    sigma_Delta_D: np.ndarray


def closed_form_limit(K, M_P, M_D, x_star, y):
    """The limit (4.11) of the unrolled gradient: -(K_M^{-T} M_P e*) x*^T with e* = x* - y.

    For polyhedral F, G (0/1 masks (4.1)) with unique, nondegenerate primal and dual
    solutions, summing the backward recursion gives (4.10) with Delta_P = 0 and
    K_M^T (sigma Delta_D) = -M_P e*; K_M = M_D K M_P is then square and invertible between
    V_P and V_D. The result contains no tau, sigma or theta: it is the derivative of
    K -> 0.5 ||x*(K) - y||^2, which :func:`cpteach.implicit_gradient` also computes.

    Parameters
    ----------
    K : operator; M_P, M_D : bool masks at the solution (:func:`solution_masks`)
    x_star : the primal solution; y : the ground truth (shape K.shape_in)

    Returns
    -------
    ClosedFormLimit

    Raises
    ------
    ValueError if K_M is not square and invertible (no unique solution: use
    :func:`summability` or :func:`cpteach.implicit_gradient`).

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.Matrix(np.array([[2.0, 0.0], [1.0, 1.0]]))
    >>> r = closed_form_limit(K, np.array([True, False]), np.array([True, False]), np.array([1.0, 3.0]),
    ...                       np.array([0.0, 0.0]))        # K_M = [2], M_P e* = [1]: sigma Delta_D = [-0.5, 0]
    >>> r.grad_K
    array([[-0.5, -1.5],
           [ 0. ,  0. ]])
    """
    M_P, M_D = _check_masks(K, M_P, M_D, "closed_form_limit")
    x_star = _validate.finite_array("x_star", x_star, K.shape_in)
    y = _validate.ground_truth(y, x_star)
    B = _masked_matrix(K, M_P, M_D)                                   # K_M on the active sets
    if B.shape[0] != B.shape[1] or np.linalg.matrix_rank(B) < B.shape[0]:
        raise ValueError(
            f"(4.11) needs a square invertible K_M = M_D K M_P, got {B.shape[0]} x {B.shape[1]} with rank "
            f"{np.linalg.matrix_rank(B)}: the solution is not unique; use asymptotics.summability or implicit_gradient")
    e_star = (x_star - y).ravel()                                     # e* = x* - y
    sigma_Delta_D = np.zeros(K.size_out)
    sigma_Delta_D[M_D.ravel()] = -np.linalg.solve(B.T, e_star[M_P.ravel()])   # (4.10): K_M^T (sigma Delta_D) = -M_P e*
    sigma_Delta_D = sigma_Delta_D.reshape(K.shape_out)
    return ClosedFormLimit(grad_K=K.param_grad(sigma_Delta_D, x_star), sigma_Delta_D=sigma_Delta_D)   # (4.11)
