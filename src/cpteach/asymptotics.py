"""Asymptotics of the backpropagated gradients as L -> infinity (docs/theory.md, section 4).

- :func:`masks`: the 0/1 prox derivatives P^l, D^l per iteration and the first l_o from
  which they no longer change (4.1);
- :func:`kernel_residuals`: for fixed l, the masked and unmasked residuals of (4.2) as L grows;
- :func:`projection_limit`: the limit (4.3) of delta_P^l;
- :func:`partial_sums` and :func:`limit_gradient`: the sums (4.4) and the formula (4.5);
- :func:`summability`: whether (4.4) converges, and if not the slope (4.6) against the
  observed growth of the unrolled gradient;
- :func:`masked_operator`, :func:`contraction_rate`, :func:`closed_form_limit`: the matrix of
  K_M = M_D K M_P (section 4D), the rate (4.9) and the limit (4.11) of a unique solution;
- :func:`kink_margin`: how far the fixed point sits from a kink of the masks (4.1);
- :func:`plateaus`: the plateaus of a 1-D solution on which the limit (4.3) lives (section 4C).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg

from . import _validate, prox
from .operators import check_operator
from .backprop import BackpropResult, _gradient_at_solution, backprop
from .chambolle_pock import CPTrace, _fixed_point_arguments, chambolle_pock, check_problem, check_steps, solve


__all__ = ["Masks", "masks", "KernelResiduals", "kernel_residuals", "projection_limit", "partial_sums",
           "limit_gradient", "Summability", "summability", "solution_masks", "masked_operator", "ContractionRate",
           "contraction_rate", "ClosedFormLimit", "closed_form_limit", "kink_margin", "Plateaus", "plateaus"]


def _check_trace(trace):
    if not isinstance(trace, CPTrace):
        raise TypeError(f"expected the CPTrace returned by cpteach.chambolle_pock, got {type(trace).__name__}")
    _check_masked(trace.F_conj, trace.G)


def _check_masked(F_conj, G):
    """Assumption (4.1) needs 0/1 prox derivatives of F* and G."""
    for name, f in (("F*", F_conj), ("G", G)):
        if not f.has_mask:
            raise TypeError(
                f"the prox derivative of {name} = {f!r} is not a 0/1 mask, so assumption (4.1) does not apply; "
                "use functions with has_mask (L1, Box, Zero, and conjugates such as L1().conjugate())")


def _kink(f, v, step, kink_tol):
    """Entries of v within kink_tol * max(1, |v|) of a jump of f.mask (an ambiguous 0/1 value)."""
    e = kink_tol * np.maximum(1.0, np.abs(v))
    m = f.mask(v, step)
    return (f.mask(v + e, step) != m) | (f.mask(v - e, step) != m)


@dataclass(frozen=True)
class Masks:
    """The masks (4.1) per iteration: ``P[l - 1]`` = P^l, ``D[l - 1]`` = D^l for l = 1..L.

    ``P_kink``, ``D_kink`` mark entries sitting on a kink (within the tolerance);
    ``changes[l - 1]`` counts the off-kink entries of (P^l, D^l) that differ from
    (P^{l-1}, D^{l-1}) (0 for l = 1); ``l_o`` is the first l with (P^m, D^m) = (P^L, D^L)
    off the kinks for all m >= l.
    """

    P: np.ndarray
    D: np.ndarray
    P_kink: np.ndarray
    D_kink: np.ndarray
    changes: np.ndarray
    l_o: int


def masks(trace, kink_tol=1e-9):
    """The prox-derivative masks P^l = prox'_{tau G}(z_P^l - x), D^l = prox'_{sigma F*}(z_D^l) and l_o (4.1).

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
    >>> m.P.shape, m.l_o <= 100
    ((100, 5), True)
    """
    _check_trace(trace)
    if trace.L < 1:
        raise ValueError("masks need a trace with L >= 1 iterations")
    G, F_conj, tau, sigma = trace.G, trace.F_conj, trace.tau, trace.sigma
    v_P = trace.z_P_all - trace.data
    P = G.mask(v_P, tau)                                          # (4.1)
    D = F_conj.mask(trace.z_D_all, sigma)                            # (4.1)
    P_kink = _kink(G, v_P, tau, kink_tol)
    D_kink = _kink(F_conj, trace.z_D_all, sigma, kink_tol)

    def differ(mask, kink, a, b):
        return np.sum((mask[a] != mask[b]) & ~kink[a] & ~kink[b], axis=tuple(range(1, mask.ndim)))

    L = trace.L
    changes = np.zeros(L, dtype=int)
    changes[1:] = differ(P, P_kink, slice(1, L), slice(0, L - 1)) + differ(D, D_kink, slice(1, L), slice(0, L - 1))
    last = np.full(L, L - 1)
    off_final = differ(P, P_kink, slice(0, L), last) + differ(D, D_kink, slice(0, L), last)
    bad = np.flatnonzero(off_final)
    l_o = int(bad[-1]) + 2 if bad.size else 1
    return Masks(P=P, D=D, P_kink=P_kink, D_kink=D_kink, changes=changes, l_o=l_o)


@dataclass(frozen=True)
class KernelResiduals:
    """Residuals of (4.2) for a fixed l and growing L (one entry per L).

    Relative residuals ``K_delta_P`` = ||K delta_P^l|| / (||K|| ||delta_P^l||) and
    ``DK_delta_P`` = ||D K delta_P^l|| / (||K|| ||delta_P^l||); ``Kt_delta_D`` =
    ||K^T delta_D^l|| / (||K|| ||e||) and ``PKt_delta_D`` = ||P K^T delta_D^l|| / (||K|| ||e||)
    (scaled by ||e||, not ||delta_D^l||, because delta_D^l itself tends to 0 by (4.3)). ``delta_P_norm``, ``delta_D_norm`` are
    ||delta_P^l|| / ||e|| and ||delta_D^l|| / ||e|| with e = delta_P^{L+1} = x^L - y.
    ``P``, ``D`` are the masks of iteration l.
    """

    l: int
    Ls: np.ndarray
    K_delta_P: np.ndarray
    DK_delta_P: np.ndarray
    Kt_delta_D: np.ndarray
    PKt_delta_D: np.ndarray
    delta_P_norm: np.ndarray
    delta_D_norm: np.ndarray
    delta_P: np.ndarray
    delta_D: np.ndarray
    P: np.ndarray
    D: np.ndarray


def _norm(v):
    return float(np.sqrt(np.sum(np.square(v))))


def _ratio(a, b):
    """a / b entrywise, 0 where b = 0."""
    a, b = np.broadcast_arrays(np.asarray(a, dtype=float), np.asarray(b, dtype=float))
    return np.divide(a, b, out=np.zeros_like(a), where=b > 0)


def _row_norms(a, rows):
    return np.sqrt(np.sum(np.reshape(a, (rows, -1)) ** 2, axis=1))


def _residuals(K, delta_P, delta_D, P, D, e):
    """The scaled residuals (4.2) of :class:`KernelResiduals` for stacked delta_P, delta_D (one row each).

    ``P``, ``D``: the masks of each row (or one pair for all rows); ``e``: ||x^L - y|| of each row (or one).
    """
    rows, norm_K = len(delta_P), K.norm()
    K_dP, Kt_dD = K.apply(delta_P), K.adjoint(delta_D)
    dP = _row_norms(delta_P, rows)
    scale_P, scale_D = norm_K * dP, norm_K * np.asarray(e)       # delta_D^l itself tends to 0 (4.3)
    return dict(K_delta_P=_ratio(_row_norms(K_dP, rows), scale_P),
                DK_delta_P=_ratio(_row_norms(D * K_dP, rows), scale_P),          # (4.2)
                Kt_delta_D=_ratio(_row_norms(Kt_dD, rows), scale_D),
                PKt_delta_D=_ratio(_row_norms(P * Kt_dD, rows), scale_D),        # (4.2)
                delta_P_norm=_ratio(dP, e),
                delta_D_norm=_ratio(_row_norms(delta_D, rows), e))               # (4.3): -> 0


def kernel_residuals(trace, y, l, Ls):
    """For fixed l, the masked and unmasked kernel residuals of delta_P^l, delta_D^l for each L in Ls (4.2).

    Backpropagates through the first L iterations of ``trace`` (the same iterates as a run
    of length L) for every L in ``Ls``. With the masks fixed from l_o on (see
    :func:`masks`), ||D K delta_P^l|| and ||P K^T delta_D^l|| tend to 0 as L grows, while
    ||K delta_P^l|| need not: the poster's "delta_P in ker K" holds only on the active sets.

    Parameters
    ----------
    trace : CPTrace with L >= max(Ls); y : the ground truth; l : int, 1 <= l <= min(Ls);
    Ls : increasing iteration counts.

    Returns
    -------
    KernelResiduals
        ``delta_P``, ``delta_D`` hold delta_P^l, delta_D^l for each L (shape (len(Ls), ...)).

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> K = operators.FiniteDifference(5)
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(K, prox.L1(0.5), prox.L1(0.3), x, tau=0.49, sigma=0.49, L=300)
    >>> r = kernel_residuals(trace, np.array([0., 0., 1., 1., 1.]), 50, [100, 300])
    >>> r.DK_delta_P.shape, r.delta_P.shape
    ((2,), (2, 5))
    """
    _check_trace(trace)
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size == 0 or np.any(np.diff(Ls) <= 0) or Ls[-1] > trace.L:
        raise ValueError(f"Ls must be increasing iteration counts <= trace.L = {trace.L}, got {Ls!r}")
    l = _validate.integer("l", l, 1, "the iteration index")
    if l > Ls[0]:
        raise ValueError(f"l must be an integer in [1, min(Ls) = {Ls[0]}], got {l!r}")
    P = trace.G.mask(trace.z_P(l) - trace.data, trace.tau)       # (4.1) at iteration l
    D = trace.F_conj.mask(trace.z_D(l), trace.sigma)              # (4.1) at iteration l
    delta_P, delta_D, e = [], [], []
    for L in Ls:
        prefix = trace.prefix(int(L))
        res = backprop(prefix, y)
        delta_P.append(res.delta_P[l - 1])
        delta_D.append(res.delta_D[l - 1])
        e.append(_norm(prefix.x_L - y))                           # ||delta_P^{L+1}||, (3.0)
    delta_P, delta_D = np.array(delta_P), np.array(delta_D)
    return KernelResiduals(l=int(l), Ls=Ls, **_residuals(trace.K, delta_P, delta_D, P, D, np.array(e)),
                           delta_P=delta_P, delta_D=delta_D, P=P, D=D)


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


def _masked_matrix(K, M_P, M_D):
    """Rows M_D = 1 and columns M_P = 1 of the matrix of K (bool masks of the right shapes)."""
    return K.matrix()[np.ix_(np.flatnonzero(M_D), np.flatnonzero(M_P))]


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


def projection_limit(K, P, D, e, rtol=1e-10):
    """The limit (4.3) of delta_P^l: the orthogonal projection of P e onto range(P) ∩ ker(D K).

    Computed densely (an SVD of D K restricted to the active rows and columns), for
    teaching sizes (n up to a few thousand) and unbatched data.

    Parameters
    ----------
    K : operator; P : bool array (shape_in), D : bool array (shape_out), the masks (4.1);
    e : array (shape_in), e.g. delta_P^{L+1} = x^L - y; rtol : relative singular value
    threshold for the kernel.

    Returns
    -------
    array of shape K.shape_in; zero when range(P) ∩ ker(DK) = {0}, e.g. for a unique solution.

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.FiniteDifference(3)
    >>> P = np.array([True, True, False]); D = np.array([[True, False, False]])
    >>> projection_limit(K, P, D, np.array([1., 3., 5.]))   # constant on {0, 1}: mean of 1, 3
    array([2., 2., 0.])
    """
    P, D = _check_masks(K, P, D, "projection_limit")
    e = _validate.finite_array("e", e)
    if e.shape != tuple(K.shape_in):
        raise ValueError(f"projection_limit needs an unbatched e of shape {tuple(K.shape_in)}, got {e.shape}")
    cols, rows = np.flatnonzero(P), np.flatnonzero(D)
    out = np.zeros(K.size_in)
    if cols.size == 0:
        return out.reshape(K.shape_in)
    A = _masked_matrix(K, P, D)                              # D K P on the active sets
    N = scipy.linalg.null_space(A, rcond=rtol) if rows.size else np.eye(cols.size)
    out[cols] = N @ (N.T @ e.ravel()[cols])                 # (4.3)
    return out.reshape(K.shape_in)


def partial_sums(result):
    """The partial sums (4.4): Delta_P = sum_l delta_P^l, Delta_D = sum_l delta_D^l (l = 1..L)."""
    if not isinstance(result, BackpropResult):
        raise TypeError(f"partial_sums expects the BackpropResult of cpteach.backprop, got {type(result).__name__}")
    return result.delta_P.sum(axis=0), result.delta_D.sum(axis=0)


def limit_gradient(K, Delta_P, Delta_D, x_star, xi_star, *, tau, sigma):
    """The limit formula (4.5): sigma Delta_D x*^T - tau xi* Delta_P^T (via ``K.param_grad``).

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.Matrix(np.eye(2))
    >>> limit_gradient(K, np.array([1., 0.]), np.array([0., 2.]), np.array([1., 1.]),
    ...                np.array([1., 0.]), tau=0.5, sigma=0.5)
    array([[-0.5,  0. ],
           [ 1. ,  1. ]])
    """
    check_operator(K)
    tau, sigma = _validate.positive("tau", tau), _validate.positive("sigma", sigma)
    x_star = _validate.finite_array("x_star", x_star)
    x_star = K.check_input(x_star, "x_star")
    Delta_P = _validate.primal(K, x_star, Delta_P, "Delta_P")
    Delta_D = _validate.dual(K, x_star, Delta_D, "Delta_D")
    xi_star = _validate.dual(K, x_star, xi_star, "xi_star")
    return _gradient_at_solution(K, Delta_P, Delta_D, x_star, xi_star, tau, sigma)   # (4.5)


def solution_masks(K, F, G, x, x_star, xi_star, *, tau, sigma):
    """The masks (4.1) at the fixed point: P = prox'_{tau G}(x* - tau K^T xi* - x), D = prox'_{sigma F*}(xi* + sigma K x*)."""
    v_P, z_D = _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma)
    return G.mask(v_P, tau), F.conjugate().mask(z_D, sigma)        # (4.1) at the fixed point


def _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma):
    """The arguments z_P* - x of prox_{tau G} and z_D* of prox_{sigma F*} at the fixed point (checked inputs)."""
    x = check_problem(K, F, G, x)
    tau, sigma, _ = check_steps(K, tau, sigma, 1.0)
    x_star = _validate.primal(K, x, x_star, "x_star")
    xi_star = _validate.dual(K, x, xi_star, "xi_star")
    return _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)     # (2.1), (2.3) at the fixed point


def _kink_distance(f, v, step):
    """Entrywise distance from v to the nearest jump of f.mask(., step) (inf where f.mask has none)."""
    if isinstance(f, prox.L1):
        return np.abs(np.abs(v) - step * f.weight)                   # soft thresholding: |v| = step * weight
    if isinstance(f, prox.Box):
        return np.minimum(np.abs(v - f.lower), np.abs(v - f.upper))  # clipping: v = lower or upper
    if isinstance(f, prox.Zero):
        return np.full(np.shape(v), np.inf)
    if isinstance(f, prox.Conjugate):                                # mask(v, s) = ~f.mask(v / s, 1 / s)
        return step * _kink_distance(f.f, v / step, 1.0 / step)
    raise TypeError(f"kink_margin knows the kinks of L1, Box, Zero and their conjugates, got {f!r}")


def kink_margin(K, F, G, x, x_star, xi_star, *, tau, sigma):
    """The smallest distance of (z_P* - x, z_D*) to a kink of the masks (4.1): how nondegenerate the solution is.

    At the fixed point z_P* - x = x* - tau K^T xi* - x (2.3) and z_D* = xi* + sigma K x* (2.1).
    Every entry of z^l keeps its mask once it is closer to z* than this margin, so a positive
    margin (strict complementarity) makes the masks settle after a finite l_o, and a small one
    makes l_o late; a zero margin means a mask may keep flipping (section 4, "When do the
    masks settle?").

    Parameters
    ----------
    K, F, G, x : the problem (1.1); F* and G must have 0/1 prox derivatives (L1, Box, Zero,
        conjugates of these)
    x_star, xi_star : the primal-dual solution; tau, sigma : the step sizes

    Returns
    -------
    float
        min over entries of the distance to the nearest jump of prox'_{tau G} (at
        |z_P* - x| = tau * alpha for G = alpha ||.||_1) and of prox'_{sigma F*} (at
        |z_D*| = beta for F = beta ||.||_1); inf if neither has a kink.

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.Matrix(np.eye(2))
    >>> m = kink_margin(K, prox.L1(1.0), prox.L1(0.5), np.zeros(2), np.array([0.2, 0.]), np.array([0.8, 0.]),
    ...                 tau=0.5, sigma=0.5)   # |z_P* - x| = (0.2, 0) vs tau alpha = 0.25; |z_D*| = (0.9, 0) vs 1
    >>> round(m, 12)
    0.05
    """
    v_P, z_D = _checked_fixed_point_arguments(K, F, G, x, x_star, xi_star, tau, sigma)
    F_conj = F.conjugate()
    _check_masked(F_conj, G)
    return float(min(np.min(_kink_distance(G, v_P, tau)), np.min(_kink_distance(F_conj, z_D, sigma))))


@dataclass(frozen=True)
class Summability:
    """Whether the sums (4.4) converge, and the growth of the unrolled gradient if not.

    ``delta_P_limit`` is the projection (4.3) at the solution's masks with e = x* - y;
    ``summable`` is True when it vanishes (||delta_P_limit|| <= rtol ||e||).
    ``predicted_slope`` is (4.6), -tau xi* delta_P_limit^T; ``observed_slope`` is
    (grad_K(L_last) - grad_K(L_prev)) / (L_last - L_prev) from unrolled gradients;
    ``slope_rel_error`` = ||observed - predicted|| / ||predicted|| (nan when the prediction is 0,
    e.g. when summable or when K has no parameters).
    ``grad_norms`` holds ||grad_K(L)|| for each L in ``Ls``.
    """

    summable: bool
    delta_P_limit: np.ndarray
    predicted_slope: np.ndarray
    observed_slope: np.ndarray
    slope_rel_error: float
    Ls: np.ndarray
    grad_norms: np.ndarray
    x_star: np.ndarray
    xi_star: np.ndarray


def _slope(K, P, D, e, xi, tau):
    """The limit (4.3) of delta_P^l for masks P, D and e = x - y, and the growth per iteration (4.6) of grad_K."""
    delta_P_limit = projection_limit(K, P, D, e)                      # (4.3)
    return delta_P_limit, -tau * K.param_grad(xi, delta_P_limit)      # (4.6)


def summability(K, F, G, x, y, *, tau, sigma, theta=1.0, Ls=(200, 400, 800), tol=1e-10, max_iter=100000,
                rtol=1e-8):
    """Detect whether the unrolled gradient converges as L -> infinity or grows linearly (4.6).

    Solves (1.1), takes the masks (4.1) at the solution and the projection (4.3) of
    P (x* - y); a non-zero projection means delta_P^l tends to a non-zero vector, the sums
    (4.4) diverge and grad_K grows with slope (4.6). The observed slope comes from unrolled
    gradients at the iteration counts ``Ls`` (one trace of length max(Ls)).

    Returns
    -------
    Summability

    Examples
    --------
    >>> from cpteach import operators, prox
    >>> K = operators.FiniteDifference(6)
    >>> x = np.array([0., 0., 0., 1., 1., 1.])
    >>> s = summability(K, prox.L1(0.2), prox.L1(1.0), x, x + 0.1, tau=0.49, sigma=0.49, Ls=(50, 100))
    >>> s.summable
    True
    """
    x = check_problem(K, F, G, x)
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    y = _validate.ground_truth(y, x)
    Ls = np.asarray(Ls, dtype=int)
    if Ls.ndim != 1 or Ls.size < 2 or np.any(np.diff(Ls) <= 0) or Ls[0] < 1:
        raise ValueError(f"Ls must hold at least two increasing positive iteration counts, got {Ls!r}")
    _check_masked(F.conjugate(), G)
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, theta=theta, tol=tol, max_iter=max_iter)
    P, D = solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    e = sol.x_star - y
    delta_P_limit, predicted = _slope(K, P, D, e, sol.xi_star, tau)               # (4.3), (4.6)
    summable = _norm(delta_P_limit) <= rtol * _norm(e)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, theta=theta, L=int(Ls[-1]))
    grads = [backprop(trace.prefix(int(L)), y).grad_K for L in Ls]
    observed = (grads[-1] - grads[-2]) / (Ls[-1] - Ls[-2])
    slope_error = _norm(observed - predicted) / _norm(predicted) if _norm(predicted) > 0 else np.nan
    return Summability(summable=bool(summable), delta_P_limit=delta_P_limit, predicted_slope=predicted,
                       observed_slope=observed, slope_rel_error=float(slope_error), Ls=Ls,
                       grad_norms=np.array([_norm(g) for g in grads]), x_star=sol.x_star, xi_star=sol.xi_star)


# --- the masked operator at a settled mask: rate (4.9), limit (4.11); TV-L1 plateaus (4C) ----

@dataclass(frozen=True)
class ContractionRate:
    """The rate (4.9) of the backward pass once the masks have settled.

    ``singular_values`` are those of the matrix of K_M = M_D K M_P (:func:`masked_operator`),
    descending, zeros included; ``s_min`` is the smallest non-zero one (relative threshold
    ``rtol``); ``rho`` = sqrt(1 - sigma tau s_min^2): the modulus of the eigenvalues of the
    slowest 2x2 block (4.8) at theta = 1, by which the adjoints decay per backward step.
    """

    singular_values: np.ndarray
    s_min: float
    rho: float


def contraction_rate(K, M_P, M_D, *, tau, sigma, rtol=1e-10):
    """The contraction rate (4.9) rho = sqrt(1 - sigma tau s_min^2) of the backward pass with masks M_P, M_D.

    After l_o the backward pass is Chambolle-Pock on the masked operator K_M = M_D K M_P with
    the roles swapped (4.7); each singular value s_i of K_M gives a 2x2 block (4.8) whose
    eigenvalues (theta = 1) have modulus sqrt(1 - sigma tau s_i^2). The slowest block, at the
    smallest non-zero singular value, sets the rate. (Directions with s_i = 0 are the
    kernels of (4.3): they do not decay, and do not count here.)

    Parameters
    ----------
    K : operator; M_P, M_D : bool masks (4.1) of shapes K.shape_in, K.shape_out
    tau, sigma : step sizes with tau sigma ||K||^2 < 1
    rtol : singular values <= rtol * the largest count as zero

    Returns
    -------
    ContractionRate

    Examples
    --------
    >>> from cpteach import operators
    >>> K = operators.Matrix(np.diag([2.0, 1.0, 0.0]))
    >>> r = contraction_rate(K, np.ones(3, bool), np.ones(3, bool), tau=0.25, sigma=0.25)
    >>> r.s_min, round(r.rho, 6)                       # sqrt(1 - 0.0625)
    (1.0, 0.968246)
    """
    M_P, M_D = _check_masks(K, M_P, M_D, "contraction_rate")
    tau, sigma, _ = check_steps(K, tau, sigma, 1.0)
    rtol = _validate.positive("rtol", rtol)
    singular_values = np.linalg.svd(_masked_matrix(K, M_P, M_D), compute_uv=False)
    nonzero = singular_values[singular_values > rtol * singular_values.max()] if singular_values.size else []
    if len(nonzero) == 0:
        raise ValueError("the masked operator M_D K M_P is zero (no non-zero singular value), so (4.9) is undefined; "
                         "check the masks (M_P, M_D should come from asymptotics.masks or solution_masks)")
    s_min = float(nonzero.min())
    return ContractionRate(singular_values=singular_values, s_min=s_min,
                           rho=float(np.sqrt(1 - sigma * tau * s_min**2)))                        # (4.9)


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


@dataclass(frozen=True)
class Plateaus:
    """The plateaus of a 1-D solution x* and which of them carry the limit (4.3) (section 4C).

    ``bounds[i] = (start, stop)``: plateau i is x*[start:stop], a maximal run with D x* = 0
    (neighbours within ``tol``); the plateaus cover 0..n in order. ``free[i]`` is True when
    no pixel of plateau i equals the data (|x*_j - x_j| > tol for all its pixels);
    ``free_pixels`` (length n) marks the pixels of free plateaus.
    """

    bounds: tuple
    free: np.ndarray
    free_pixels: np.ndarray


def plateaus(x_star, x, tol=1e-6):
    """The plateaus (maximal runs with D x* = 0) of a 1-D solution x*, and those with no pixel equal to the data x.

    For 1-D TV-L1 the limit (4.3) of delta_P^l lives exactly on the free plateaus (no pixel
    with x*_i = x_i), where it is the plateau's mean of e* = x* - y; each free plateau is one
    dimension of V_P ∩ ker(M_D K) and a direction in which the solution can slide (4C).

    Parameters
    ----------
    x_star : 1-D array, the solution; x : 1-D array of the same length, the data
    tol : float > 0, well above the solver's accuracy and well below the smallest jump:
        neighbours closer than tol lie on one plateau, pixels closer than tol to the data equal it

    Returns
    -------
    Plateaus

    Examples
    --------
    >>> p = plateaus(np.array([0., 0., 1., 1., 1., 0.5]), np.array([0.3, -0.2, 1., 2., 0., 0.]))
    >>> p.bounds, p.free.tolist()
    (((0, 2), (2, 5), (5, 6)), [True, False, True])
    """
    x_star = _validate.finite_array("x_star", x_star)
    if x_star.ndim != 1 or x_star.size == 0:
        raise ValueError(f"plateaus needs a non-empty 1-D x_star (a 1-D signal), got shape {x_star.shape}")
    x = _validate.finite_array("x", x, x_star.shape)
    tol = _validate.positive("tol", tol)
    cuts = np.flatnonzero(np.abs(np.diff(x_star)) > tol) + 1                      # jumps of x*: D x* != 0
    bounds = tuple(zip(np.r_[0, cuts].tolist(), np.r_[cuts, x_star.size].tolist()))  # maximal runs with D x* = 0
    free = np.array([np.all(np.abs(x_star[a:b] - x[a:b]) > tol) for a, b in bounds])
    free_pixels = np.repeat(free, [b - a for a, b in bounds])
    return Plateaus(bounds=bounds, free=free, free_pixels=free_pixels)


# --- per-iteration analysis of one run (used by the notebook 03 dashboard) -----------------

@dataclass(frozen=True)
class IterationResiduals:
    """The residuals (4.2) of delta_P^l, delta_D^l for every l = 1..L of ONE run of length L.

    Arrays of length L, entry l - 1 for iteration l, scaled as in :class:`KernelResiduals`:
    ``K_delta_P`` = ||K delta_P^l|| / (||K|| ||delta_P^l||), ``DK_delta_P`` the same with
    the mask D^l (4.2); ``Kt_delta_D`` = ||K^T delta_D^l|| / (||K|| ||e||), ``PKt_delta_D``
    with the mask P^l (4.2); ``delta_P_norm``, ``delta_D_norm`` = ||delta^l|| / ||e||, with
    e = x^L - y = delta_P^{L+1} (3.0). ``masks`` are the :class:`Masks` of the run.
    """

    K_delta_P: np.ndarray
    DK_delta_P: np.ndarray
    Kt_delta_D: np.ndarray
    PKt_delta_D: np.ndarray
    delta_P_norm: np.ndarray
    delta_D_norm: np.ndarray
    masks: Masks


def iteration_residuals(trace, y, result=None):
    """The kernel residuals (4.2) at every iteration l = 1..L of one run, masks of iteration l.

    Once the masks are fixed (l >= l_o) the backward map does not depend on l, so reading
    l from L down to 1 in one run of length L shows what :func:`kernel_residuals` shows by
    fixing l and letting L grow: far from the end the masked residuals vanish.

    Parameters
    ----------
    trace : CPTrace (unbatched) with L >= 1 and 0/1 prox derivatives (4.1)
    y : array, the ground truth
    result : BackpropResult of ``backprop(trace, y)`` or None (then it is computed)

    Returns
    -------
    IterationResiduals

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(operators.FiniteDifference(5), prox.L1(0.5), prox.L1(0.3), x,
    ...                        tau=0.49, sigma=0.49, L=300)
    >>> r = iteration_residuals(trace, np.array([0., 0., 1., 1., 1.]))
    >>> r.DK_delta_P.shape, r.masks.l_o
    ((300,), 7)
    """
    _check_trace(trace)
    y = _validate.ground_truth(y, trace.data)
    m = masks(trace)
    res = backprop(trace, y) if result is None else result
    if not isinstance(res, BackpropResult):
        raise TypeError(f"result must be the BackpropResult of cpteach.backprop, got {type(res).__name__}")
    e = _norm(trace.x_L - y)                                          # ||delta_P^{L+1}||, (3.0)
    return IterationResiduals(**_residuals(trace.K, res.delta_P, res.delta_D, m.P, m.D, e), masks=m)   # masks of l


def predicted_slope(trace, y):
    """The slope (4.6) of grad_K in L, predicted from the last iteration of one run.

    With P = P^L, D = D^L (the masks of the last iteration, :func:`masks`) and e = x^L - y,
    the limit (4.3) delta_P_lim = :func:`projection_limit` (K, P, D, e) gives the growth per
    iteration -tau * param_grad(xi^L, delta_P_lim) (4.6): zero when the sums (4.4) converge.
    :func:`summability` makes the same prediction from the solution instead of iteration L.

    Returns
    -------
    array of the shape of K.params

    Examples
    --------
    >>> from cpteach import operators, prox, chambolle_pock
    >>> x = np.array([0., 0.1, 1., 0.9, 1.])
    >>> trace = chambolle_pock(operators.Matrix(np.diff(np.eye(5), axis=0)), prox.L1(1.0), prox.L1(0.5), x,
    ...                        tau=0.49, sigma=0.49, L=300)
    >>> predicted_slope(trace, np.array([0., 0., 1., 1., 1.])).shape
    (4, 5)
    """
    _check_trace(trace)
    if trace.L < 1:
        raise ValueError("predicted_slope needs a trace with L >= 1 iterations")
    y = _validate.ground_truth(y, trace.data)
    m = masks(trace)
    return _slope(trace.K, m.P[-1], m.D[-1], trace.x_L - y, trace.xi(trace.L), trace.tau)[1]   # (4.3), (4.6)


__all__ += ["IterationResiduals", "iteration_residuals", "predicted_slope"]
