"""The Chambolle-Pock step (docs/theory.md, section 2), written once: (2.1)-(2.5) from a state, the start (2.0),
the step sizes and their condition, the primal objective and the primal-dual gap (2.7).

- :func:`cp_step`: one step from a :class:`CPState` (x^l, x_bar^l, xi^l), a :class:`Step` (the new
  state and the prox arguments z_P, z_D); :meth:`CPState.start` is (2.0);
- :func:`primal_objective`, :func:`primal_dual_gap`: Phi_P and the gap (2.7) of a point (x, xi);
- :func:`default_steps`, :func:`check_steps`, :func:`check_problem`: step sizes and argument checks.

Every module that needs the step calls the kernels here (:mod:`cpteach.chambolle_pock` runs it L
times or until convergence); :mod:`cpteach.chambolle_pock` re-exports the public names.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import _validate
from .operators import check_operator
from .prox import check_function

__all__ = ["CPState", "Step", "cp_step", "primal_objective", "primal_dual_gap", "default_steps", "check_problem",
           "check_steps"]


def default_steps(K, safety=0.99, sigma_over_tau=1.0):
    """Step sizes with tau*sigma*||K||^2 = safety^2 < 1 (2.0) and sigma/tau = ``sigma_over_tau``.

    tau = safety / (r ||K||) and sigma = safety r / ||K|| with r = sqrt(sigma_over_tau); the
    default is tau = sigma = safety / ||K||. (For K = 0 every step is allowed: tau = 1/r, sigma = r.)

    Examples
    --------
    >>> from cpteach import operators
    >>> tau, sigma = default_steps(operators.Matrix(2 * np.eye(2)), sigma_over_tau=4.0)
    >>> round(tau, 4), round(sigma, 4)
    (0.2475, 0.99)
    """
    safety = _validate.positive("safety", safety)
    if safety >= 1:
        raise ValueError(f"safety must be < 1 so that tau*sigma*||K||^2 = safety^2 < 1, got {safety}; e.g. safety=0.99")
    r = np.sqrt(_validate.positive("sigma_over_tau", sigma_over_tau))
    norm = K.norm()
    step = 1.0 if norm == 0 else safety / norm
    return float(step / r), float(step * r)


def check_steps(K, tau, sigma, theta):
    """Validate tau, sigma > 0, tau*sigma*||K||^2 < 1 and theta in [0, 1]; return floats."""
    return _validate.steps(K, tau, sigma, theta)


def check_problem(K, F, G, x, name="x"):
    """Validate types of K, F, G and the shape and finiteness of the data x; return x as floats.

    x must be a finite real array whose last axes are K.shape_in (leading axes are a batch).
    """
    check_operator(K)
    check_function("F", F)
    check_function("G", G)
    return K.check_input(_validate.finite_array(name, x), name)


def _start(K, x, x0, xi0):
    """The start (2.0), x^0 = x and xi^0 = 0, or a warm start of the right shapes."""
    x0 = x if x0 is None else _validate.primal(K, x, x0, "x0")
    batch = x.shape[: x.ndim - len(K.shape_in)]
    xi0 = np.zeros(batch + tuple(K.shape_out)) if xi0 is None else _validate.dual(K, x, xi0, "xi0")
    return x0, xi0


# ---- the Chambolle-Pock step, written once: every module that needs (2.1)-(2.5) calls these ----
# ``out``: where to write the result (a slice of the trace), so that storing it costs no copy.
# sigma K x_bar is computed as K (sigma x_bar): K is linear, and x_bar is the smaller array.

def _z_D(K, xi, x_bar, sigma, out=None):
    return np.add(xi, K.apply(sigma * x_bar), out=out)      # (2.1)


def _xi(F_conj, z_D, sigma):
    return F_conj.prox(z_D, sigma)                          # (2.2)


def _z_P(K, x_l, xi, tau, out=None):
    return np.subtract(x_l, tau * K.adjoint(xi), out=out)   # (2.3)


def _x(G, z_P, x, tau, out=None):
    return np.add(G.prox(z_P - x, tau), x, out=out)         # (2.4)


def _x_bar(x_new, x_l, theta):
    return x_new + theta * (x_new - x_l)                    # (2.5)


def _cp_step(K, F_conj, G, x, x_l, x_bar, xi, tau, sigma, theta, out_z_D=None, out_z_P=None, out_x=None):
    """One step (2.1)-(2.5) from (x^l, x_bar^l, xi^l); returns z_D^{l+1}, xi^{l+1}, z_P^{l+1}, x^{l+1}, x_bar^{l+1}.

    ``out_z_D``, ``out_z_P``, ``out_x``: optional arrays that receive z_D^{l+1}, z_P^{l+1}, x^{l+1}.
    """
    z_D = _z_D(K, xi, x_bar, sigma, out_z_D)
    xi = _xi(F_conj, z_D, sigma)
    z_P = _z_P(K, x_l, xi, tau, out_z_P)
    x_new = _x(G, z_P, x, tau, out_x)
    return z_D, xi, z_P, x_new, _x_bar(x_new, x_l, theta)


@dataclass(frozen=True)
class CPState:
    """The state (x^l, x_bar^l, xi^l) a Chambolle-Pock step starts from; :meth:`start` is (2.0)."""

    x: np.ndarray
    x_bar: np.ndarray
    xi: np.ndarray

    @classmethod
    def start(cls, K, x, x0=None, xi0=None):
        """The start (2.0): x^0 = x_bar^0 = x and xi^0 = 0, or a warm start x^0 = x_bar^0 = x0, xi^0 = xi0."""
        x = _validate.finite_array("x", x)
        x0, xi0 = _start(K, K.check_input(x), x0, xi0)
        return cls(x=x0, x_bar=x0, xi=xi0)


@dataclass(frozen=True)
class Step:
    """One Chambolle-Pock step: the prox arguments z_D^{l+1} (2.1), z_P^{l+1} (2.3) and the new ``state``."""

    z_D: np.ndarray
    z_P: np.ndarray
    state: CPState


def cp_step(K, F, G, x, state, *, tau, sigma, theta=1.0):
    """One Chambolle-Pock step (2.1)-(2.5) from the state (x^l, x_bar^l, xi^l) of ``state``.

    Parameters
    ----------
    K, F, G, x : the problem (1.1) (G is applied to u - x)
    state : CPState, (x^l, x_bar^l, xi^l); ``CPState.start(K, x)`` is the start (2.0)
    tau, sigma : step sizes with tau*sigma*||K||^2 < 1; theta : extrapolation in [0, 1]

    Returns
    -------
    Step
        ``z_D`` = xi^l + sigma K x_bar^l, ``z_P`` = x^l - tau K^T xi^{l+1} and ``state`` =
        (x^{l+1}, x_bar^{l+1}, xi^{l+1}); pass ``step.state`` to the next call.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K, x = operators.Matrix(np.eye(2)), np.array([2.0, -0.5])
    >>> step = cp_step(K, prox.L1(), prox.SquaredL2(), x, CPState.start(K, x), tau=0.5, sigma=0.5)
    >>> step.z_D, step.state.xi, step.state.x
    (array([ 1.  , -0.25]), array([ 1.  , -0.25]), array([ 1.66666667, -0.41666667]))
    """
    x = check_problem(K, F, G, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    if not isinstance(state, CPState):
        raise TypeError(f"state must be a cpteach.chambolle_pock.CPState (e.g. CPState.start(K, x)), "
                        f"got {type(state).__name__}")
    x_l = _validate.primal(K, x, state.x, "state.x")
    x_bar = _validate.primal(K, x, state.x_bar, "state.x_bar")
    xi = _validate.dual(K, x, state.xi, "state.xi")
    z_D, xi, z_P, x_new, x_bar = _cp_step(K, F.conjugate(), G, x, x_l, x_bar, xi, tau, sigma, theta)
    return Step(z_D=z_D, z_P=z_P, state=CPState(x=x_new, x_bar=x_bar, xi=xi))


def _primal(K, F, G, x, u):
    return F(K.apply(u)) + G(u - x)                                         # Phi_P (1.1), (2.7)


def primal_objective(K, F, G, x, u):
    """The primal objective Phi_P(u) = F(K u) + G(u - x) of (1.1), (2.7) (inf where G(u - x) is).

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> float(primal_objective(operators.Matrix(np.eye(1)), prox.L1(), prox.SquaredL2(), np.array([2.0]), np.array([1.0])))
    1.5
    """
    x = check_problem(K, F, G, x)
    return float(_primal(K, F, G, x, _validate.primal(K, x, u, "u")))


def _gap(K, F, F_conj, G, G_conj, x, u, xi):
    """Phi_P(u) - Phi_D(xi) (2.7), Phi_D(xi) = -F*(xi) - G*(-K^T xi) + <K^T xi, x>."""
    Kt_xi = K.adjoint(xi)
    dual = -F_conj(xi) - G_conj(-Kt_xi) + np.sum(Kt_xi * x)                 # Phi_D (2.7)
    return _primal(K, F, G, x, u) - dual


def primal_dual_gap(K, F, G, x, x_point, xi_point):
    """The primal-dual gap Phi_P(x_point) - Phi_D(xi_point) of (2.7): >= 0, and 0 exactly at a solution.

    Phi_P(u) = F(K u) + G(u - x) and Phi_D(xi) = -F*(xi) - G*(-K^T xi) + <K^T xi, x>; inf where
    xi_point is infeasible (F*(xi) = inf) or x_point is (G(u - x) = inf). For a batch of data, the
    sum over the batch (F and G sum over it).

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K, F, G, x = operators.Matrix(np.eye(1)), prox.L1(), prox.SquaredL2(), np.array([2.0])
    >>> float(primal_dual_gap(K, F, G, x, np.array([1.0]), np.array([1.0])))   # the solution of |u| + (u - 2)^2 / 2
    0.0
    >>> float(primal_dual_gap(K, F, G, x, np.array([2.0]), np.array([0.5])))   # 2 - (-0 - 0.125 + 1)
    1.125
    """
    x = check_problem(K, F, G, x)
    x_point = _validate.primal(K, x, x_point, "x_point")
    xi_point = _validate.dual(K, x, xi_point, "xi_point")
    return float(_gap(K, F, F.conjugate(), G, G.conjugate(), x, x_point, xi_point))


def _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma):
    """The prox arguments of a step taken at a fixed point (x^l = x_bar^l = x*, xi^l = xi*): z_P* - x and z_D*."""
    v_P = _z_P(K, x_star, xi_star, tau) - x                # (2.3), shifted by the data as in (2.4)
    z_D = _z_D(K, xi_star, x_star, sigma)                  # (2.1) at x_bar^l = x*
    return v_P, z_D
