"""The masks (4.1) of docs/theory.md, section 4: the 0/1 prox derivatives M_P^l, M_D^l of each iteration,
the first iteration l_o from which they no longer change, and the masks at the solution."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..step import _fixed_point_arguments, check_problem, check_steps
from ._checks import _check_trace

__all__ = ["Masks", "masks", "solution_masks", "unsettled_entries"]


def _kink(f, v, step, kink_tol):
    """Entries of v within kink_tol * max(1, |v|) of a jump of f.mask (an ambiguous 0/1 value)."""
    e = kink_tol * np.maximum(1.0, np.abs(v))
    m = f.mask(v, step)
    return (f.mask(v + e, step) != m) | (f.mask(v - e, step) != m)


@dataclass(frozen=True)
class Masks:
    """The masks (4.1) per iteration: ``M_P[l - 1]`` = M_P^l, ``M_D[l - 1]`` = M_D^l for l = 1..L.

    ``M_P_kink``, ``M_D_kink`` mark entries sitting on a kink (within the tolerance);
    ``changes[l - 1]`` counts the off-kink entries of (M_P^l, M_D^l) that differ from
    (M_P^{l-1}, M_D^{l-1}) (0 for l = 1); ``l_o`` is the first l with (M_P^m, M_D^m) = (M_P^L, M_D^L)
    off the kinks for all m >= l.
    """

    M_P: np.ndarray
    M_D: np.ndarray
    M_P_kink: np.ndarray
    M_D_kink: np.ndarray
    changes: np.ndarray
    l_o: int


def masks(trace, kink_tol=1e-9):
    """The prox-derivative masks M_P^l = prox'_{tau G}(z_P^l - x), M_D^l = prox'_{sigma F*}(z_D^l) and l_o (4.1).

    Parameters
    ----------
    trace : CPTrace with L >= 1, whose F* and G have 0/1 prox derivatives (``has_mask``).
    kink_tol : float, relative distance to a kink below which an entry counts as ambiguous;
        changes of ambiguous entries are ignored when finding l_o.

    Returns
    -------
    Masks

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> K = operators.FiniteDifference(5)
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.L1(0.3), np.array([0., 0., 1., 1., 1.]),
    ...                        tau=0.49, sigma=0.49, L=100)
    >>> m = masks(trace)
    >>> m.M_P.shape, m.l_o <= 100
    ((100, 5), True)
    """
    _check_trace(trace)
    if trace.L < 1:
        raise ValueError("masks need a trace with L >= 1 iterations")
    G, F_conj, tau, sigma = trace.G, trace.F_conj, trace.tau, trace.sigma
    v_P = trace.z_P_all - trace.data
    M_P = G.mask(v_P, tau)                                        # (4.1)
    M_D = F_conj.mask(trace.z_D_all, sigma)                       # (4.1)
    M_P_kink = _kink(G, v_P, tau, kink_tol)
    M_D_kink = _kink(F_conj, trace.z_D_all, sigma, kink_tol)

    def differ(mask, kink, a, b):
        return np.sum((mask[a] != mask[b]) & ~kink[a] & ~kink[b], axis=tuple(range(1, mask.ndim)))

    L = trace.L
    changes = np.zeros(L, dtype=int)
    changes[1:] = (differ(M_P, M_P_kink, slice(1, L), slice(0, L - 1))
                   + differ(M_D, M_D_kink, slice(1, L), slice(0, L - 1)))
    last = np.full(L, L - 1)
    off_final = differ(M_P, M_P_kink, slice(0, L), last) + differ(M_D, M_D_kink, slice(0, L), last)
    bad = np.flatnonzero(off_final)
    l_o = int(bad[-1]) + 2 if bad.size else 1
    return Masks(M_P=M_P, M_D=M_D, M_P_kink=M_P_kink, M_D_kink=M_D_kink, changes=changes, l_o=l_o)


def _iteration_masks(trace, l):
    """The masks (4.1) of iteration l alone: M_P^l = prox'_{tau G}(z_P^l - x), M_D^l = prox'_{sigma F*}(z_D^l)."""
    return trace.G.mask(trace.z_P(l) - trace.data, trace.tau), trace.F_conj.mask(trace.z_D(l), trace.sigma)  # (4.1)


def solution_masks(K, F, G, x, x_star, xi_star, *, tau, sigma):
    """The masks (4.1) at the fixed point: M_P = prox'_{tau G}(x* - tau K^T xi* - x), M_D = prox'_{sigma F*}(xi* + sigma K x*)."""
    v_P, z_D = _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma)
    return G.mask(v_P, tau), F.conjugate().mask(z_D, sigma)        # (4.1) at the fixed point


def unsettled_entries(run_masks, K, F, G, x, x_star, xi_star, *, tau, sigma, kink_tol=1e-9):
    """How many entries of the masks (4.1) at the last iteration l = L of a run differ from the masks at the
    solution (x*, xi*) (:func:`solution_masks`), counting only entries off a kink in both.

    A run that converges to a solution with these masks (x*, xi* nondegenerate: off the kinks) ends with them, so a
    count > 0 says that its masks change again after l = L: l_o > L, whatever last change the first L steps show.
    A count of 0 is no proof of the converse: a run may pass through the solution's masks and change again.
    (On the TV-L1 problems of the notebooks the iterates may converge to another primal solution, with the same
    masks; a count that stays > 0 as L grows would mean masks of another limit.)

    Examples
    --------
    >>> from cpteach import chambolle_pock, problems
    >>> p = problems.l1_l1_problem()
    >>> short = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=50)
    >>> unsettled_entries(masks(short), p.K, p.F, p.G, p.x, p.solution.x_star, p.solution.xi_star,
    ...                   tau=p.tau, sigma=p.sigma) > 0
    True
    """
    v_P, z_D = _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma)
    F_conj = F.conjugate()
    M_P, M_D = G.mask(v_P, tau), F_conj.mask(z_D, sigma)                                # (4.1) at the fixed point
    off_P = ~_kink(G, v_P, tau, kink_tol) & ~run_masks.M_P_kink[-1]
    off_D = ~_kink(F_conj, z_D, sigma, kink_tol) & ~run_masks.M_D_kink[-1]
    return int(np.sum((run_masks.M_P[-1] != M_P) & off_P) + np.sum((run_masks.M_D[-1] != M_D) & off_D))


def _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma):
    """The arguments z_P* - x of prox_{tau G} and z_D* of prox_{sigma F*} at the fixed point (checked inputs)."""
    x = check_problem(K, F, G, x)
    tau, sigma, _ = check_steps(K, tau, sigma, 1.0)
    x_star = _validate.primal(K, x, x_star, "x_star")
    xi_star = _validate.dual(K, x, xi_star, "xi_star")
    return _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)     # (2.1), (2.3) at the fixed point
