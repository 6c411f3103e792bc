"""Backpropagation through the unrolled Chambolle-Pock iteration (docs/theory.md, section 3)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .chambolle_pock import CPTrace

__all__ = ["backprop", "BackpropResult"]


@dataclass(frozen=True)
class BackpropResult:
    """The gradient of the unrolled loss and the adjoints of the backward pass.

    ``delta_P[l - 1]`` is delta_P^l and ``delta_D[l - 1]`` is delta_D^l for l = 1..L
    (arrays of shape (L, ...)); ``grad_K`` has the shape of ``K.params``.
    """

    grad_K: np.ndarray
    loss: float
    delta_P: np.ndarray
    delta_D: np.ndarray


def backprop(trace, y):
    """Gradient of loss(y, A^L(K, x)) = 0.5 ||y - x^L||^2 with respect to K.params.

    Implements the backward recursion (3.0)-(3.3) and the sum (3.4) of docs/theory.md.

    Parameters
    ----------
    trace : CPTrace from :func:`cpteach.chambolle_pock`
    y : array with the shape of the data x, the ground truth

    Returns
    -------
    BackpropResult
        ``grad_K`` (shape of ``K.params``), ``loss``, and ``delta_P``, ``delta_D``
        (one entry per l = 1..L).

    Notes
    -----
    The recursion starts from the true gradient delta_P^{L+1} = x^L - y. The poster
    starts from y - x^L; since everything is linear in that start, its sum (3.4) is the
    *negative* gradient, a descent direction (sign erratum in docs/theory.md).

    .. math::
        \\bar\\delta_D^{l+1} = \\delta_D^{l+1} + \\theta(\\delta_D^{l+1} - \\delta_D^{l+2}),\\;
        \\delta_P^l = prox'_{\\tau G}(z_P^l - x) \\odot (\\delta_P^{l+1} + \\sigma K^T \\bar\\delta_D^{l+1}),\\;
        \\delta_D^l = prox'_{\\sigma F^*}(z_D^l) \\odot (\\delta_D^{l+1} - \\tau K \\delta_P^l),

        \\nabla_K = \\sum_l \\sigma \\delta_D^l \\bar x^{l-1\\,T} - \\tau \\xi^l \\delta_P^{l\\,T}.

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> K = operators.Matrix(np.eye(2))
    >>> trace = chambolle_pock(K, prox.L1(), prox.SquaredL2(), np.array([2.0, -0.5]),
    ...                        tau=0.5, sigma=0.5, L=3)
    >>> backprop(trace, np.zeros(2)).grad_K.shape
    (2, 2)
    """
    if not isinstance(trace, CPTrace):
        raise TypeError(f"backprop expects the CPTrace returned by chambolle_pock, got {type(trace).__name__}")
    y = np.asarray(y, dtype=float)
    if y.shape != trace.data.shape:
        raise ValueError(f"y has shape {y.shape} but the data x has shape {trace.data.shape}; they must match")
    if not np.all(np.isfinite(y)):
        raise ValueError("y contains NaN or inf; clean the ground truth before computing gradients")
    return _backprop(trace, y)


def _backprop(trace, y):
    """Pure kernel of :func:`backprop`."""
    K, L, x = trace.K, trace.L, trace.data
    tau, sigma, theta = trace.tau, trace.sigma, trace.theta
    F_conj = trace.F_conj
    residual = trace.x_L - y
    loss = 0.5 * float(np.sum(residual**2))
    delta_P_all = np.empty((L,) + x.shape)
    delta_D_all = np.empty((L,) + trace.xi0.shape)
    grad = K.param_grad_sum()
    delta_P = residual                                   # (3.0) delta_P^{L+1} = x^L - y
    delta_D = np.zeros_like(trace.xi0)                   # (3.0) delta_D^{L+1} = delta_D^{L+2} = 0
    Kt_delta_D = Kt_delta_D_next = np.zeros_like(x)      # K^T delta_D^{l+1}, K^T delta_D^{l+2}
    for l in range(L, 0, -1):
        # (3.1) applied through K^T: K^T delta_D_bar^{l+1} = K^T delta_D^{l+1} + theta (K^T delta_D^{l+1} - K^T delta_D^{l+2})
        Kt_delta_D_bar = Kt_delta_D + theta * (Kt_delta_D - Kt_delta_D_next)
        delta_P = trace.G.prox_vjp(trace.z_P(l) - x, tau, delta_P + sigma * Kt_delta_D_bar)      # (3.2)
        z_D = trace.z_D(l)
        delta_D = F_conj.prox_vjp(z_D, sigma, delta_D - tau * K.apply(delta_P))                 # (3.3)
        # (3.4), term sigma delta_D^l x_bar^{l-1 T}; also returns K^T delta_D^l for the next step
        Kt_delta_D, Kt_delta_D_next = grad.add_and_adjoint(delta_D, trace.x_bar(l - 1), sigma), Kt_delta_D
        grad.add(F_conj.prox(z_D, sigma), delta_P, -tau)                                       # (3.4), term -tau xi^l delta_P^{l T}
        delta_P_all[l - 1], delta_D_all[l - 1] = delta_P, delta_D
    return BackpropResult(grad.value(), loss, delta_P_all, delta_D_all)
