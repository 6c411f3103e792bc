"""Backpropagation through the unrolled Chambolle-Pock iteration (docs/theory.md, section 3)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
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
    return _backprop(trace, _validate.ground_truth(y, trace.data))


# ---- the backward step and the gradient term, written once: backprop, the fixed-point and the
# ---- implicit gradients (cpteach.fixed_point) all call these ----

def _prox_derivatives(F_conj, G, v_P, z_D, tau, sigma):
    """Gamma_P = prox'_{tau G}(v_P) and Gamma_D = prox'_{sigma F*}(z_D) (:class:`cpteach.prox.ProxDerivative`).

    v_P = z_P^l - x and z_D^l of one step, or of a block of steps stacked (leading axis): then the
    derivatives of all of them come from one call each.
    """
    return G.prox_derivative(v_P, tau), F_conj.prox_derivative(z_D, sigma)   # (3.2), (3.3): prox'


def _backward_step(K, Gamma_P, Gamma_D, tau, a_x, a_xi, row=None):
    """delta_P^l, delta_D^l from the prox derivatives Gamma_P, Gamma_D (:func:`_prox_derivatives`) and the
    adjoints a_x of x^l, a_xi of xi^l's later use; ``row``: step l's row of stacked derivatives (None: one step).

    In the recursion a_x = delta_P^{l+1} + sigma K^T delta_D_bar^{l+1} and a_xi = delta_D^{l+1}.
    """
    delta_P = Gamma_P.vjp(a_x, row)                                           # (3.2)
    delta_D = Gamma_D.vjp(a_xi - K.apply(tau * delta_P), row)                 # (3.3), tau on the smaller side of K
    return delta_P, delta_D


def _adjoint_of_x(delta_P, Kt_delta_D, a_x_prev, sigma, theta):
    """The adjoints of x^{l-1} (a_x) and of its copy in the extrapolation of the next step (a_x_prev).

    x^{l-1} enters z_P^l and x_bar^{l-1} = x^{l-1} + theta (x^{l-1} - x^{l-2}) with weight 1 + theta,
    x_bar^l with weight -theta; summed, a_x = delta_P^l + sigma K^T delta_D_bar^l of (3.1)-(3.2).
    """
    a_x = delta_P + a_x_prev + (1 + theta) * sigma * Kt_delta_D              # (3.1)
    return a_x, -theta * sigma * Kt_delta_D


def _dual_gradient_term(grad, delta_D, x_bar_prev, sigma):
    """Add sigma delta_D^l x_bar^{l-1 T} of (3.4) to the sum ``grad`` (``K.param_grad_sum()``); return K^T delta_D^l.

    For a filter bank the FFT of delta_D^l is shared between the parameter gradient and K^T delta_D^l.
    """
    return grad.add_and_adjoint(delta_D, x_bar_prev, sigma)                   # (3.4) sigma delta_D x_bar^T


def _primal_gradient_term(grad, xi, delta_P, tau):
    """Add -tau xi^l delta_P^{l T} of (3.4) to the sum ``grad``; xi, delta_P may be stacks of steps (summed)."""
    grad.add(xi, delta_P, -tau)                                               # (3.4) -tau xi delta_P^T


def _gradient_sum(K, delta_P, delta_D, x_bar_prev, xi, tau, sigma):
    """The sum (3.4) of sigma delta_D^l x_bar^{l-1 T} - tau xi^l delta_P^{l T} over stacks of steps (leading axis),
    or its one term; with every iterate at the solution, sigma delta_D x*^T - tau xi* delta_P^T of (4.5), (5.3)."""
    grad = K.param_grad_sum()
    _dual_gradient_term(grad, delta_D, x_bar_prev, sigma)
    _primal_gradient_term(grad, xi, delta_P, tau)
    return grad.value()


BLOCK_ENTRIES = 2**16   # the backward pass reads the trace in blocks of steps of about this many entries of z_P, z_D


def _block(trace, low, high):
    """What the backward steps l = low + 1..high read of the trace first, for all of them at once: the prox
    derivatives Gamma_P, Gamma_D at z_P^l - x and z_D^l (:func:`_prox_derivatives`, row l - 1 - low) and
    x_bar^{l-1} (a stack, same rows)."""
    Gamma_P, Gamma_D = _prox_derivatives(trace.F_conj, trace.G, trace.z_P_all[low:high] - trace.data,
                                         trace.z_D_all[low:high], trace.tau, trace.sigma)
    return Gamma_P, Gamma_D, trace.x_bar_block(low, high - 1)


# a problem whose state (a_x, delta_D) has at most this many entries is run by transition matrices
# (:func:`_transition`) where its prox derivatives stay the same over runs of steps
TRANSITION_ENTRIES = 256
SHORT_RUN = 8           # a run of fewer steps is stepped on the state: building its matrix costs about 6 steps


def _step_of_state(trace, Gamma_P, Gamma_D, row, a_x, delta_D):
    """The backward step (3.1)-(3.3) at row ``row`` of the derivatives on the state (a_x, delta_D^{l+1}) (or on
    a stack of states, leading axis): the state (a_x, delta_D^l) of the next step.

    The state is all a step reads: the adjoint a_x_prev that the step before left is -theta sigma K^T
    delta_D^{l+1} (:func:`_adjoint_of_x`).
    """
    K, tau, sigma, theta = trace.K, trace.tau, trace.sigma, trace.theta
    a_x_prev = -theta * sigma * K.adjoint(delta_D)                             # (3.1) of the step before
    delta_P, delta_D = _backward_step(K, Gamma_P, Gamma_D, tau, a_x, delta_D, row)
    a_x, _ = _adjoint_of_x(delta_P, K.adjoint(delta_D), a_x_prev, sigma, theta)
    return a_x, delta_D


def _transition(trace, Gamma_P, Gamma_D, row):
    """The backward step at row ``row`` of the derivatives as one matrix T on the flattened state s = (a_x,
    delta_D^{l+1}): T s is the state of the next step (:func:`_step_of_state` of the n + m unit states)."""
    n, m = trace.data.size, trace.xi0.size
    unit = np.eye(n + m)
    a_x, delta_D = _step_of_state(trace, Gamma_P, Gamma_D, row, unit[:, :n].reshape((n + m,) + trace.data.shape),
                                  unit[:, n:].reshape((n + m,) + trace.xi0.shape))
    return np.concatenate([a_x.reshape(n + m, n), delta_D.reshape(n + m, m)], axis=1).T


def _runs(trace, max_entries):
    """The prox derivatives Gamma_P, Gamma_D of all L steps and the runs (low, high) of steps l = low + 1..high
    with equal derivatives, where transition matrices pay (:func:`_transition`): entrywise derivatives, a state
    of at most ``max_entries`` entries and runs of 4 steps on average; else None."""
    if (trace.L == 0 or trace.data.size + trace.xi0.size > max_entries
            or not (trace.G.entrywise and trace.F_conj.entrywise)):
        return None
    Gamma_P, Gamma_D = _prox_derivatives(trace.F_conj, trace.G, trace.z_P_all - trace.data, trace.z_D_all,
                                         trace.tau, trace.sigma)
    L = trace.L
    if Gamma_P.diagonal is None or Gamma_D.diagonal is None:
        return None
    P, D = Gamma_P.diagonal.reshape(L, -1), Gamma_D.diagonal.reshape(L, -1)
    changes = np.flatnonzero(np.any(P[1:] != P[:-1], axis=1) | np.any(D[1:] != D[:-1], axis=1)) + 1
    if 4 * (len(changes) + 1) > L:
        return None
    bounds = np.concatenate([[0], changes, [L]])
    return Gamma_P, Gamma_D, list(zip(bounds[:-1].tolist(), bounds[1:].tolist()))


def _backprop(trace, y, block_entries=BLOCK_ENTRIES, transition_entries=TRANSITION_ENTRIES):
    """Pure kernel of :func:`backprop`: (3.0), then (3.1)-(3.4) for l = L, ..., 1.

    A small problem whose prox derivatives stay the same over runs of steps (0/1 masks that settle, (4.1))
    is run by one matrix per run of at least ``SHORT_RUN`` steps (:func:`_transition`; shorter runs step on the
    state, :func:`_step_of_state`): a step is one matrix-vector product instead of a dozen numpy calls on
    short vectors (2.5-4x faster at L = 1500 on 48 pixels, benchmarks/gradient.py); the others step by step
    (:func:`_backprop_steps`). Both give the same numbers up to rounding.
    """
    residual = trace.x_L - y
    loss = 0.5 * float(np.sum(residual**2))
    runs = _runs(trace, transition_entries)
    if runs is None:
        return _backprop_steps(trace, residual, loss, block_entries)
    K, L, x, xi0 = trace.K, trace.L, trace.data, trace.xi0
    n, m = x.size, xi0.size
    Gamma_P, Gamma_D, runs = runs
    state = np.empty((L + 1, n + m))                   # row l: (a_x, delta_D^{l+1}) before step l (after l + 1)
    state[L, :n], state[L, n:] = residual.ravel(), 0.0  # (3.0) delta_P^{L+1} = x^L - y, delta_D^{L+1} = 0
    for low, high in reversed(runs):                   # the steps l = high, ..., low + 1 share their derivatives
        if high - low >= SHORT_RUN:
            step = _transition(trace, Gamma_P, Gamma_D, high - 1).dot
            for l in range(high, low, -1):
                step(state[l], out=state[l - 1])       # step l, (3.1)-(3.3)
        else:                                          # a few steps: on the state itself
            for l in range(high, low, -1):
                a_x, delta_D = _step_of_state(trace, Gamma_P, Gamma_D, l - 1, state[l, :n].reshape(x.shape),
                                              state[l, n:].reshape(xi0.shape))
                state[l - 1, :n], state[l - 1, n:] = a_x.ravel(), delta_D.ravel()
    delta_D_all = np.ascontiguousarray(state[:L, n:]).reshape((L,) + xi0.shape)
    delta_P_all = Gamma_P.vjp(state[1:, :n].reshape((L,) + x.shape))   # (3.2) of all steps at once
    grad_K = _gradient_sum(K, delta_P_all, delta_D_all, trace.x_bar_block(0, L - 1), trace.xi_block(1, L),
                           trace.tau, trace.sigma)
    return BackpropResult(grad_K, loss, delta_P_all, delta_D_all)


def _backprop_steps(trace, residual, loss, block_entries):
    """:func:`_backprop` step by step, for any problem.

    The trace is read in blocks of about ``block_entries`` entries (at least one step; :func:`_block`): the
    prox derivatives, x_bar^{l-1} and xi^l of a block come from one call each, and the block's terms
    -tau xi^l delta_P^{l T} of (3.4) are added to the sum at once (the terms sigma delta_D^l x_bar^{l-1 T}
    step by step: a filter bank shares the FFT of delta_D^l with K^T delta_D^l). For a small problem a
    few blocks cover all L steps (for an entrywise prox a step multiplies by a diagonal instead of
    calling ``prox_vjp``); for a large one a block is one step, so no temporary larger than a few steps
    is made.
    """
    K, L, x = trace.K, trace.L, trace.data
    tau, sigma, theta = trace.tau, trace.sigma, trace.theta
    delta_P_all = np.empty((L,) + x.shape)
    delta_D_all = np.empty((L,) + trace.xi0.shape)
    grad = K.param_grad_sum()                          # the sum (3.4)
    a_x, a_x_prev = residual, np.zeros_like(x)         # (3.0) delta_P^{L+1} = x^L - y
    delta_D = np.zeros_like(trace.xi0)                 # (3.0) delta_D^{L+1} = delta_D^{L+2} = 0
    steps = max(1, block_entries // max(1, x.size + trace.xi0.size))
    for high in range(L, 0, -steps):
        low = max(0, high - steps)                     # the block of the steps l = low + 1..high
        Gamma_P, Gamma_D, x_bar = _block(trace, low, high)
        for l in range(high, low, -1):
            row = l - 1 - low
            delta_P, delta_D = _backward_step(K, Gamma_P, Gamma_D, tau, a_x, delta_D, row)   # prox' at step l
            Kt_delta_D = _dual_gradient_term(grad, delta_D, x_bar[row], sigma)
            a_x, a_x_prev = _adjoint_of_x(delta_P, Kt_delta_D, a_x_prev, sigma, theta)
            delta_P_all[l - 1], delta_D_all[l - 1] = delta_P, delta_D
        del Gamma_P, Gamma_D, x_bar                    # no temporaries of a block live on into the next
        _primal_gradient_term(grad, trace.xi_block(low + 1, high), delta_P_all[low:high], tau)   # the block's terms
    return BackpropResult(grad.value(), loss, delta_P_all, delta_D_all)
