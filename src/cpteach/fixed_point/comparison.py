"""Comparing the three gradients of docs/theory.md, section 5 (5C-5E): unrolled (3.4), one-step (5.3) and
implicit (5.5), their cosines and errors against the implicit one, per L, and their cost in time and memory."""
from __future__ import annotations

import time
import tracemalloc
from dataclasses import dataclass

import numpy as np

from .. import _validate
from ..asymptotics.settled_masks import solution_masks
from ..asymptotics.sums import _slope
from ..backprop import backprop
from ..chambolle_pock import CPTrace, chambolle_pock
from .conditions import theorem_conditions
from .gradients import fixed_point_gradient, implicit_gradient

__all__ = ["GradientComparison", "compare_gradients", "cosine_and_error", "unrolled_against", "GradientRegimes",
           "gradient_regimes"]


@dataclass(frozen=True)
class GradientComparison:
    """Unrolled (one entry per L) and one-step gradients against the implicit gradient.

    Errors are relative, ||g - g_implicit|| / ||g_implicit||; cosines are
    <g, g_implicit> / (||g|| ||g_implicit||). Times are wall-clock seconds and peak memory is
    the tracemalloc peak in bytes of one call (solves included for the one-step and implicit
    gradients, measured with tracemalloc running).
    """

    Ls: np.ndarray
    unrolled_rel_error: np.ndarray
    unrolled_cosine: np.ndarray
    unrolled_time: np.ndarray
    unrolled_peak_bytes: np.ndarray
    one_step_rel_error: float
    one_step_cosine: float
    one_step_time: float
    one_step_peak_bytes: int
    implicit_time: float
    implicit_peak_bytes: int
    implicit_gmres_iterations: int
    solve_iterations: int


def _measure(fn):
    """Run fn() under tracemalloc; return (result, seconds, peak bytes)."""
    running = tracemalloc.is_tracing()
    if not running:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    start = time.perf_counter()
    out = fn()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] - base
    if not running:
        tracemalloc.stop()
    return out, seconds, int(peak)


def cosine_and_error(g, ref):
    """(cosine, relative error) of a gradient ``g`` against a reference ``ref`` (zero-safe)."""
    ref_norm = max(float(np.linalg.norm(ref)), 1e-300)
    g_norm = max(float(np.linalg.norm(g)), 1e-300)
    return float(np.sum(g * ref) / (g_norm * ref_norm)), float(np.linalg.norm(g - ref) / ref_norm)


def compare_gradients(K, F, G, x, y, Ls, *, tau, sigma, theta=1.0, tol=1e-8, max_iter=20000,
                      max_trace_bytes=10**9):
    """Relative error and cosine of unrolled and one-step gradients against the implicit one.

    For each L in ``Ls`` the unrolled gradient (3.4) is computed from the start (2.0) with
    :func:`cpteach.chambolle_pock` and :func:`cpteach.backprop`; the reference is
    :func:`implicit_gradient`, the exact limit (4.5). Time and peak memory of each method
    are recorded. Returns a :class:`GradientComparison` of arrays (for plotting).

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))   # 1-D differences as a learnable matrix
    >>> c = compare_gradients(K, prox.L1(0.5), prox.SquaredL2(), np.array([0., 0., 1., 1.]),
    ...                       np.array([0., 0.5, 0.5, 1.]), [1, 400], tau=0.5, sigma=0.5, tol=1e-10)
    >>> bool(c.unrolled_cosine[-1] > 0.999)
    True
    """
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size == 0 or np.any(Ls < 1):
        raise ValueError(f"Ls must be a non-empty list of positive iteration counts, got {Ls!r}")
    implicit, t_imp, m_imp = _measure(lambda: implicit_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta,
                                                                tol=tol, max_iter=max_iter))
    ref = implicit.grad_K
    one, t_one, m_one = _measure(lambda: fixed_point_gradient(K, F, G, x, y, tau=tau, sigma=sigma, theta=theta,
                                                              tol=tol, max_iter=max_iter))
    rel, cos, times, peaks = [], [], [], []
    for L in Ls:
        res, t, m = _measure(lambda: backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=int(L),
                                                             max_trace_bytes=max_trace_bytes), y))
        c, e = cosine_and_error(res.grad_K, ref)
        rel.append(e), cos.append(c), times.append(t), peaks.append(m)
    c_one, e_one = cosine_and_error(one.grad_K, ref)
    return GradientComparison(Ls=Ls, unrolled_rel_error=np.array(rel), unrolled_cosine=np.array(cos),
                              unrolled_time=np.array(times), unrolled_peak_bytes=np.array(peaks),
                              one_step_rel_error=e_one, one_step_cosine=c_one, one_step_time=t_one,
                              one_step_peak_bytes=m_one, implicit_time=t_imp, implicit_peak_bytes=m_imp,
                              implicit_gmres_iterations=implicit.gmres_iterations,
                              solve_iterations=implicit.solution.iterations)


def unrolled_against(trace, y, Ls, reference):
    """(cosine, relative error) of the unrolled gradient (3.4) of each prefix of ``trace`` against ``reference``.

    The unrolled gradient of L iterations is :func:`cpteach.backprop` of ``trace.prefix(L)``:
    the same iterates as a run of length L, so one forward run serves every L in ``Ls``.

    Parameters
    ----------
    trace : CPTrace from :func:`cpteach.chambolle_pock`
    y : array, the ground truth
    Ls : iteration counts 1 <= L <= trace.L
    reference : array of the shape of K.params (e.g. the implicit gradient (5.5))

    Returns
    -------
    (cosine, rel_error) : two arrays of length len(Ls), as in :func:`cosine_and_error`

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.diff(np.eye(4), axis=0))
    >>> x, y = np.array([0., 0., 1., 1.]), np.array([0., 0.5, 0.5, 1.])
    >>> ig = implicit_gradient(K, prox.L1(0.5), prox.SquaredL2(), x, y, tau=0.5, sigma=0.5, tol=1e-10)
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.SquaredL2(), x, tau=0.5, sigma=0.5, L=400)
    >>> cosine, rel_error = unrolled_against(trace, y, [1, 400], ig.grad_K)
    >>> bool(rel_error[-1] < 1e-6 < rel_error[0])
    True
    """
    if not isinstance(trace, CPTrace):
        raise TypeError(f"trace must be the CPTrace returned by cpteach.chambolle_pock, got {type(trace).__name__}")
    Ls = np.asarray(Ls)
    if Ls.ndim != 1 or Ls.size == 0 or not np.issubdtype(Ls.dtype, np.integer) or Ls.min() < 1 or Ls.max() > trace.L:
        raise ValueError(f"Ls must be a non-empty list of integers in [1, trace.L = {trace.L}], got {Ls!r}")
    reference = _validate.finite_array("reference", reference, np.shape(trace.K.params))
    pairs = np.array([cosine_and_error(backprop(trace.prefix(int(L)), y).grad_K, reference) for L in Ls])   # (3.4)
    return pairs[:, 0], pairs[:, 1]


@dataclass(frozen=True)
class GradientRegimes:
    """Unrolled (3.4), one-step (5.3) and implicit (5.5) gradients of several problems, per L.

    Row i belongs to the problem ``names[i]``. ``cosine[i, m]`` and ``rel_error[i, m]`` compare
    the unrolled gradient of ``Ls[m]`` iterations (cold start (2.0)) with the reference gradient
    ``references[i]``: "implicit" (5.5) where GMRES solved the adjoint equation, else "one-step"
    (5.3): then I - J^T is singular, the unrolled series has no limit and there is no implicit
    gradient to compare with (``gmres_residual[i]``, the relative residual GMRES reached, says how
    far from solvable (5.5) is). ``one_step_cosine[i]``, ``one_step_rel_error[i]`` compare the
    one-step with the implicit gradient (NaN where there is none). ``conditions[i]``: the
    :class:`TheoremConditions` of section 5C at the problem's solution and steps, whether the implicit
    gradient is the limit of the unrolled ones (empty where the result was built without them).
    ``growth_cosine[i]``: where there is no limit, the cosine between the growth per iteration (4.6) at the
    solution's masks and the one-step gradient (NaN elsewhere, and where F* or G has no 0/1 derivative); near 1,
    the unrolled gradient, which grows along (4.6), turns towards the one-step one as L grows.
    """

    names: tuple
    references: tuple
    Ls: np.ndarray
    cosine: np.ndarray
    rel_error: np.ndarray
    one_step_cosine: np.ndarray
    one_step_rel_error: np.ndarray
    gmres_residual: np.ndarray
    conditions: tuple = ()
    growth_cosine: tuple = ()


def _growth_cosine(problem, one_step):
    """The cosine between the slope (4.6) of the unrolled gradient at the solution's masks (4.1) and ``one_step``."""
    K, F, G, sol = problem.K, problem.F, problem.G, problem.solution
    if not (F.conjugate().has_mask and G.has_mask):              # (4.3) needs 0/1 masks
        return np.nan
    M_P, M_D = solution_masks(K, F, G, problem.x, sol.x_star, sol.xi_star, tau=problem.tau, sigma=problem.sigma)
    slope = _slope(K, M_P, M_D, sol.x_star - problem.y, sol.xi_star, problem.tau)[1]      # (4.3), (4.6)
    return cosine_and_error(slope, one_step)[0]


def gradient_regimes(problems, L_max=2000, points=12):
    """Cosine and relative error of unrolled gradients against the implicit one, for several problems.

    For each problem (an object with ``K, F, G, x, y, tau, sigma, theta`` and a cached
    ``solution``, e.g. from :mod:`cpteach.problems`) one cold-started trace of ``L_max``
    Chambolle-Pock iterations is backpropagated on ``points`` log-spaced prefixes L <= L_max
    (:func:`unrolled_against`); the one-step gradient (5.3) and the implicit gradient (5.5)
    come from the problem's solution. Where GMRES cannot solve (5.5) (no limit, e.g. TV-L1)
    the unrolled gradients are compared with the one-step gradient instead (see
    :class:`GradientRegimes`). :func:`cpteach.plotting.plot_gradient_regimes` draws the result.

    Parameters
    ----------
    problems : dict name -> problem
    L_max : int >= 1, the longest unrolling
    points : int >= 1, the number of log-spaced L in [1, L_max]

    Returns
    -------
    GradientRegimes

    Examples
    --------
    >>> from cpteach import problems
    >>> r = gradient_regimes({"ball": problems.ball_problem(k=6, n=4)}, L_max=200, points=4)
    >>> r.Ls.tolist(), r.references, bool(r.rel_error[0, -1] < 1e-6 < r.one_step_rel_error[0])
    ([1, 6, 34, 200], ('implicit',), True)
    """
    if not isinstance(problems, dict) or not problems:
        raise TypeError(f"problems must be a non-empty dict name -> problem, got {type(problems).__name__}")
    L_max = _validate.integer("L_max", L_max, 1, "the longest unrolling")
    points = _validate.integer("points", points, 1, "the number of iteration counts")
    Ls = np.unique(np.geomspace(1, L_max, points).round().astype(int))
    rows = []
    for problem in problems.values():
        K, F, G, x, y = problem.K, problem.F, problem.G, problem.x, problem.y
        steps = dict(tau=problem.tau, sigma=problem.sigma, theta=problem.theta)
        implicit = implicit_gradient(K, F, G, x, y, solution=problem.solution, warn=False,    # no limit (TV-L1):
                                     **steps)                                    # (5.5), reported by gmres_residual
        one_step = fixed_point_gradient(K, F, G, x, y, solution=problem.solution, **steps).grad_K  # (5.3)
        reference = implicit.grad_K if implicit.gmres_converged else one_step
        trace = chambolle_pock(K, F, G, x, L=int(Ls[-1]), **steps)
        unrolled = unrolled_against(trace, y, Ls, reference)
        one = cosine_and_error(one_step, reference) if implicit.gmres_converged else (np.nan, np.nan)
        conditions = theorem_conditions(K, F, G, x, problem.solution.x_star, problem.solution.xi_star, **steps)  # 5C
        growth = np.nan if implicit.gmres_converged else _growth_cosine(problem, one_step)    # no limit: (4.6)
        rows.append((unrolled, one, implicit.gmres_residual, implicit.gmres_converged, conditions, growth))
    return GradientRegimes(names=tuple(problems),
                           references=tuple("implicit" if row[3] else "one-step" for row in rows), Ls=Ls,
                           cosine=np.array([row[0][0] for row in rows]),
                           rel_error=np.array([row[0][1] for row in rows]),
                           one_step_cosine=np.array([row[1][0] for row in rows]),
                           one_step_rel_error=np.array([row[1][1] for row in rows]),
                           gmres_residual=np.array([row[2] for row in rows]),
                           conditions=tuple(row[4] for row in rows),
                           growth_cosine=tuple(float(row[5]) for row in rows))
