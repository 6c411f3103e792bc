"""The Chambolle-Pock iteration (docs/theory.md, section 2): the forward trace and solve, over the step of
:mod:`cpteach.step` (written once there; its public names are re-exported here).

- :func:`chambolle_pock`: L steps from the start (2.0), every iterate kept (a :class:`CPTrace`);
- :func:`solve`: steps until the relative fixed-point residual is small (a :class:`Solution`);
- from :mod:`cpteach.step`: :func:`cp_step` (:class:`CPState` in, :class:`Step` out), :func:`primal_objective`,
  :func:`primal_dual_gap`, :func:`default_steps`, :func:`check_steps`, :func:`check_problem`.
"""
from __future__ import annotations

import functools
import numbers
import warnings
from dataclasses import dataclass, replace

import numpy as np

from . import _validate
from .operators import LinearOperator
from .prox import ProxFunction
from .step import (CPState, Step, _cp_step, _gap, _primal, _start, _x_bar, _xi, check_problem, check_steps, cp_step,
                   default_steps, primal_dual_gap, primal_objective)

__all__ = ["chambolle_pock", "CPTrace", "Solution", "SolutionParts", "solve",
           "CPState", "Step", "cp_step", "primal_objective", "primal_dual_gap", "default_steps", "check_problem",
           "check_steps"]

DEFAULT_MAX_TRACE_BYTES = 10**9


@dataclass(frozen=True)
class CPTrace:
    """The iterates of L Chambolle-Pock steps (2.1)-(2.5), stored for the backward pass.

    Only z_D^l, z_P^l (l = 1..L) and x^l (l = 0..L) are stored, k + 2n floats per
    iteration; xi^l = prox_{sigma F*}(z_D^l) and x_bar^l are recomputed on demand.
    Access iterates with the indices of docs/theory.md: ``trace.x(l)``,
    ``trace.x_bar(l)``, ``trace.xi(l)`` for l = 0..L and ``trace.z_P(l)``,
    ``trace.z_D(l)`` for l = 1..L.
    """

    K: LinearOperator
    F: ProxFunction
    G: ProxFunction
    data: np.ndarray   # the observation x of (1.1)
    tau: float
    sigma: float
    theta: float
    L: int
    xi0: np.ndarray
    _z_D: np.ndarray   # (L, ..., *shape_out)
    _z_P: np.ndarray   # (L, ..., *shape_in)
    _x: np.ndarray     # (L + 1, ..., *shape_in)

    def _check(self, l, low):
        if type(l) is int and low <= l <= self.L:   # the common case, without the slower checks below
            return
        if isinstance(l, bool) or not isinstance(l, numbers.Integral) or not low <= l <= self.L:
            raise IndexError(f"iteration index must be an integer in [{low}, {self.L}], got {l!r}")

    @functools.cached_property
    def F_conj(self):
        """F*, built once per trace (the backward pass asks for it at every step)."""
        return self.F.conjugate()

    @property
    def x_L(self):
        """A^L(K, x) = x^L."""
        return self._x[self.L]

    def x(self, l):
        self._check(l, 0)
        return self._x[l]

    def x_bar(self, l):
        self._check(l, 0)
        if l == 0:
            return self._x[0]
        return _x_bar(self._x[l], self._x[l - 1], self.theta)

    def z_D(self, l):
        self._check(l, 1)
        return self._z_D[l - 1]

    def z_P(self, l):
        self._check(l, 1)
        return self._z_P[l - 1]

    def xi(self, l):
        self._check(l, 0)
        if l == 0:
            return self.xi0
        return _xi(self.F_conj, self._z_D[l - 1], self.sigma)

    def xi_block(self, first, last):
        """xi^first, ..., xi^last stacked, shape (last - first + 1, ...), for 1 <= first <= last <= L.

        One prox call (2.2) on the stored z_D where F* is ``entrywise``, else one per iteration.
        """
        self._check(first, 1)
        self._check(last, first)
        z_D = self._z_D[first - 1:last]
        if self.F_conj.entrywise:
            return _xi(self.F_conj, z_D, self.sigma)
        return np.stack([_xi(self.F_conj, z, self.sigma) for z in z_D])

    def x_bar_block(self, first, last):
        """x_bar^first, ..., x_bar^last stacked, shape (last - first + 1, ...), for 0 <= first <= last <= L.

        (2.5) on the stored x; x_bar^0 = x^0 (x^{-1} := x^0 in (2.5)).
        """
        self._check(first, 0)
        self._check(last, first)
        x_prev = self._x[first - 1:last] if first > 0 else np.concatenate([self._x[:1], self._x[:last]])
        return _x_bar(self._x[first:last + 1], x_prev, self.theta)

    def objective(self):
        """Primal objective P(x^l) = F(K x^l) + G(x^l - x) for l = 0..L (2.7)."""
        return np.array([_primal(self.K, self.F, self.G, self.data, u) for u in self._x])

    def gap(self):
        """Primal-dual gap P(x^l) - D(xi^l) for l = 0..L (2.7); inf where xi^l is infeasible."""
        G_conj = self.G.conjugate()
        return np.array([_gap(self.K, self.F, self.F_conj, self.G, G_conj, self.data, self._x[l], self.xi(l))
                         for l in range(self.L + 1)])

    @property
    def x_all(self):
        """x^0, ..., x^L stacked, shape (L + 1, ...); a read-only view."""
        return _read_only(self._x)

    @property
    def z_P_all(self):
        """z_P^1, ..., z_P^L stacked, shape (L, ...); a read-only view."""
        return _read_only(self._z_P)

    @property
    def z_D_all(self):
        """z_D^1, ..., z_D^L stacked, shape (L, ...); a read-only view."""
        return _read_only(self._z_D)

    def prefix(self, L):
        """The trace of the first L iterations (views, no copy): the same iterates as a run with L steps."""
        self._check(L, 0)
        return replace(self, L=int(L), _z_D=self._z_D[:L], _z_P=self._z_P[:L], _x=self._x[:L + 1])

    @property
    def nbytes(self):
        return self._z_D.nbytes + self._z_P.nbytes + self._x.nbytes


def _read_only(a):
    view = a.view()
    view.flags.writeable = False
    return view


def chambolle_pock(K, F, G, x, *, tau, sigma, theta=1.0, L=100, x0=None, xi0=None,
                   max_trace_bytes=DEFAULT_MAX_TRACE_BYTES):
    """Run L Chambolle-Pock iterations for min_u F(Ku) + G(u - x) and record the trace.

    Parameters
    ----------
    K : cpteach.operators.LinearOperator
    F, G : cpteach.prox functions; G is applied to u - x (G is centred at 0).
    x : array (..., *K.shape_in), the data; leading axes are a batch.
    tau, sigma : float, primal and dual step sizes with tau*sigma*||K||^2 < 1.
    theta : float in [0, 1], extrapolation (1 is the classical choice).
    L : int >= 0, the number of iterations.
    x0, xi0 : optional warm start (default: x^0 = x, xi^0 = 0 as in (2.0)).
    max_trace_bytes : int, refuse traces larger than this (default 1 GB).

    Returns
    -------
    CPTrace
        with ``trace.x_L`` = A^L(K, x) and every iterate.

    Notes
    -----
    For l = 0..L-1 (docs/theory.md, section 2):

    .. math::
        z_D^{l+1} = \\xi^l + \\sigma K \\bar x^l,\\quad \\xi^{l+1} = prox_{\\sigma F^*}(z_D^{l+1}),\\quad
        z_P^{l+1} = x^l - \\tau K^T \\xi^{l+1},\\quad x^{l+1} = prox_{\\tau G}(z_P^{l+1} - x) + x,\\quad
        \\bar x^{l+1} = x^{l+1} + \\theta (x^{l+1} - x^l).

    References
    ----------
    A. Chambolle, T. Pock, J. Math. Imaging Vis. 40 (2011). C. Brauer, D. Lorenz, poster.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.FiniteDifference(5)
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1., 1.]),
    ...                        tau=0.49, sigma=0.49, L=200)
    >>> trace.x_L.round(2)
    array([0.25, 0.25, 0.83, 0.83, 0.83])
    """
    x = check_problem(K, F, G, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    L = _validate.integer("L", L, 0, "the number of iterations")
    batch = x.shape[: x.ndim - len(K.shape_in)]
    k, n = int(np.prod(batch)) * K.size_out, x.size
    need = 8 * (L * (k + n) + (L + 1) * n)
    if need > max_trace_bytes:
        raise ValueError(
            f"the trace of L = {L} iterations would need {need / 1e9:.2f} GB (> max_trace_bytes = "
            f"{max_trace_bytes / 1e9:.2f} GB); lower L, raise max_trace_bytes, or use "
            "cpteach.fixed_point_gradient, whose memory does not grow with L")
    x0, xi0 = _start(K, x, x0, xi0)
    return _chambolle_pock(K, F, G, x, tau, sigma, theta, L, x0, xi0)


def _chambolle_pock(K, F, G, x, tau, sigma, theta, L, x0, xi0):
    """Pure kernel of :func:`chambolle_pock` (no validation): L steps, every iterate stored."""
    F_conj = F.conjugate()
    z_D_all = np.empty((L,) + xi0.shape)
    z_P_all = np.empty((L,) + x.shape)
    x_all = np.empty((L + 1,) + x.shape)
    x_all[0] = x0
    x_l, x_bar, xi = x0, x0, xi0
    for l in range(L):  # the step writes z_D^{l+1}, z_P^{l+1}, x^{l+1} straight into the trace
        _, xi, _, x_l, x_bar = _cp_step(K, F_conj, G, x, x_l, x_bar, xi, tau, sigma, theta,
                                        z_D_all[l], z_P_all[l], x_all[l + 1])
    return CPTrace(K=K, F=F, G=G, data=x, tau=tau, sigma=sigma, theta=theta, L=L, xi0=xi0,
                   _z_D=z_D_all, _z_P=z_P_all, _x=x_all)


@dataclass(frozen=True)
class Solution:
    """An (approximate) primal-dual solution (x*, xi*) of (1.1) and how it was reached.

    ``residual`` is the relative fixed-point residual of the last step (see :func:`solve`),
    ``converged`` whether it fell below the tolerance ``tol`` within the budget ``max_iter``;
    ``warning`` says why not ('' if it did).
    """

    x_star: np.ndarray
    xi_star: np.ndarray
    iterations: int
    residual: float
    converged: bool
    tol: float
    max_iter: int

    @property
    def warning(self):
        """'' if the solve converged, else the message :func:`solve` warns with."""
        if self.converged:
            return ""
        return (f"Chambolle-Pock did not reach tol = {self.tol:g} in max_iter = {self.max_iter} iterations "
                f"(relative residual {self.residual:.2e}); raise max_iter or loosen tol")


class SolutionParts:
    """Mixin for results that hold a ``solution``: its primal and dual parts as ``x_star``, ``xi_star``."""

    @property
    def x_star(self):
        return self.solution.x_star

    @property
    def xi_star(self):
        return self.solution.xi_star


def _squared_norm(a):
    """||a||^2 in one pass without a temporary (einsum; np.vdot would start BLAS threads in the loop)."""
    a = a.ravel()
    return float(np.einsum("i,i->", a, a))


def solve(K, F, G, x, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000, x0=None, xi0=None, warn=True):
    """Iterate (2.1)-(2.5) until the relative fixed-point residual is below ``tol``.

    The residual is ||(x^{l+1}, xi^{l+1}) - (x^l, xi^l)|| / max(1, ||(x^{l+1}, xi^{l+1})||), checked
    every step; nothing is stored, so memory does not depend on the number of iterations.
    ``tol=0`` runs exactly ``max_iter`` steps (no residual is below 0), and the residual is
    then computed for the last step only.
    Warns (RuntimeWarning, with the residual reached) if ``max_iter`` is not enough, unless
    ``warn=False`` (for callers that report ``converged`` themselves; no warning filter is
    touched, so this is safe in threads).

    Returns
    -------
    Solution

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> sol = solve(operators.FiniteDifference(4), prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1.]),
    ...             tau=0.49, sigma=0.49, tol=1e-12)
    >>> sol.converged, sol.x_star.round(2)
    (True, array([0.25, 0.25, 0.75, 0.75]))
    """
    x = check_problem(K, F, G, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    max_iter = _validate.integer("max_iter", max_iter, 0, "the iteration budget")
    tol = _validate.real("tol", tol)
    x_l, xi = _start(K, x, x0, xi0)
    F_conj = F.conjugate()
    x_bar = x_l
    residual = np.inf
    for it in range(1, max_iter + 1):
        _, xi_new, _, x_new, x_bar = _cp_step(K, F_conj, G, x, x_l, x_bar, xi, tau, sigma, theta)
        if tol > 0 or it == max_iter:  # with tol = 0 no step can stop the loop: only the last residual is reported
            change = np.sqrt(_squared_norm(x_new - x_l) + _squared_norm(xi_new - xi))
            scale = max(1.0, np.sqrt(_squared_norm(x_new) + _squared_norm(xi_new)))
            residual = change / scale
        x_l, xi = x_new, xi_new
        if residual < tol:
            return Solution(x_star=x_l, xi_star=xi, iterations=it, residual=float(residual), converged=True,
                            tol=tol, max_iter=max_iter)
    sol = Solution(x_star=x_l, xi_star=xi, iterations=max_iter, residual=float(residual), converged=False, tol=tol,
                   max_iter=max_iter)
    if warn:
        warnings.warn(sol.warning, RuntimeWarning, stacklevel=2)
    return sol
