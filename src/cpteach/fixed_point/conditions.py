"""When the theorem of docs/theory.md, section 5C applies: its conditions at a solved problem, in numbers
(check them, never infer them from the agreement of two gradients)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import _validate, prox
from ..asymptotics.masked import _masked_matrix
from ..asymptotics.nondegeneracy import _kink_distance
from ..step import _fixed_point_arguments, check_problem, check_steps
from .gradients import _adjoint_system

__all__ = ["TheoremConditions", "theorem_conditions"]


@dataclass(frozen=True)
class TheoremConditions:
    """The conditions 1-3 of the theorem of section 5C at a solution (x*, xi*), as numbers.

    Condition 1 (a unique saddle point). ``unclipped_rows``: rows with M_D = 1, where the dual is
    strictly inside the box of prox_{sigma F*} (4.1) and so free to move; ``free_unknowns``: entries
    with M_P = 1 (for ElasticL1 the entries |v_P| > tau alpha where its derivative M_P / (1 + tau eps) is
    nonzero; all ``n`` for the ball and SquaredL2); ``rank``: the rank of K on those
    rows and columns, i.e. of K_M (section 4D). ``dual_unique`` = (rank == unclipped_rows): the
    unclipped rows have full row rank, so in particular no more of them than unknowns;
    ``primal_unique`` = (rank == free_unknowns) for a masked G, (kappa < 1) for a damped one (the ball,
    SquaredL2; ElasticL1 is strongly convex, so its primal solution is unique). ``zero_rows``: unclipped rows
    of K that are zero on the free unknowns (rows of K_M that are zero: the dual entry of each can move
    inside its box, e.g. the boundary row of forward differences), each one a reason for a non-unique dual.
    Condition 2 (nondegeneracy). ``kink_margin``: the distance of z_P* - x and z_D* to the nearest
    kink of the two proximal maps (:func:`cpteach.asymptotics.kink_margin`; for the ball
    | ||z_P* - x|| - r | = tau mu); ``nondegenerate`` = (kink_margin > margin_tol).
    For the ball (4.12): ``mu`` = ||K^T xi*|| and ``kappa`` = r / (r + tau mu); for
    G = SquaredL2(w): ``kappa`` = 1 / (1 + tau w), for G = ElasticL1(alpha, eps): ``kappa`` = 1 / (1 + tau eps)
    (``mu`` NaN); both NaN for a masked G.
    Condition 3. ``sigma_min``: the smallest singular value of I - J^T (dense, NaN when
    2n + k > ``dense_max``); ``nonsingular`` = not (sigma_min <= sv_tol) (True where it was not
    computed). The theorem is stated for theta = 1 (its proof of (a) reads CP as a proximal point method,
    which needs it): ``theta_is_one``; at another theta it does not cover the steps (the unrolled gradients
    may still converge: (b) and (c) are about the solution, which no theta changes). ``applies`` is True
    when theta = 1 and every computed condition holds, and ``verdict`` says it in one line.
    """

    n: int
    k: int
    unclipped_rows: int
    free_unknowns: int
    rank: int
    zero_rows: int
    dual_unique: bool
    primal_unique: bool
    kink_margin: float
    nondegenerate: bool
    mu: float
    kappa: float
    sigma_min: float
    nonsingular: bool
    theta_is_one: bool
    applies: bool
    verdict: str

    @property
    def failures(self):
        """The conditions 1-3 that fail, each in a few words with its number, e.g. ``('primal not unique (1)',)``
        (theta = 1, which the theorem assumes besides, is ``theta_is_one``)."""
        rows = ("a zero row" if self.zero_rows == 1 else f"{self.zero_rows} zero rows") + " of K" + (
            "" if self.free_unknowns == self.n else " on the free unknowns")
        dual = f"dual not unique (1; {rows})" if self.zero_rows else "dual not unique (1)"
        named = ((dual, self.dual_unique),
                 ("primal not unique (1)", self.primal_unique), ("degenerate (2)", self.nondegenerate),
                 ("I - J^T singular (3)", self.nonsingular))
        return tuple(name for name, holds in named if not holds)


def _damping(G, v_P, tau, K, xi_star):
    """(mu, kappa) of (4.12) for the ball, (NaN, 1 / (1 + tau w)) for SquaredL2(w), (NaN, 1 / (1 + tau eps)) for
    ElasticL1 (1.5), (NaN, NaN) for a mask."""
    if isinstance(G, prox.L2Ball):
        mu = float(np.linalg.norm(K.adjoint(xi_star))) if np.linalg.norm(v_P) > G.radius else 0.0   # (4.12)
        return mu, G.radius / (G.radius + tau * mu)                                              # (4.12)
    if isinstance(G, prox.SquaredL2):
        return np.nan, 1.0 / (1.0 + tau * G.weight)
    if isinstance(G, prox.ElasticL1):
        return np.nan, 1.0 / (1.0 + tau * G.eps)                    # prox' = M_P / (1 + tau eps), (1.5)
    return np.nan, np.nan


def _solution_masks(F_conj, G, v_P, z_D, tau, sigma):
    """(M_D, M_P) of (4.1) at the fixed point: M_P is where prox'_{tau G} does not vanish (the mask itself for
    a 0/1 derivative, the support of M_P / (1 + tau eps) for ElasticL1, every column for a damped G)."""
    M_D = F_conj.mask(z_D, sigma)                                              # (4.1)
    diagonal = G.prox_derivative(v_P, tau).diagonal                           # prox'_{tau G}(v_P), (3.2)
    if diagonal is None:                                                       # the ball: a full Jacobian
        return M_D, np.ones(v_P.shape, dtype=bool)
    return M_D, np.broadcast_to(diagonal != 0, v_P.shape)


def _rank(B, rtol, dense_size=10**6):
    """Numerical rank of B: singular values above rtol * the largest (by SVD up to ``dense_size`` entries).

    A larger B (the 32x32 filter bank has thousands of unclipped rows) is ranked by the eigenvalues of
    its smaller Gram matrix, B^T B or B B^T, which resolve singular values down to about 1e-7 of the
    largest, so there rtol is raised to 1e-7: enough to count rows against unknowns.
    """
    if B.size == 0:
        return 0
    if B.size <= dense_size:
        s = np.linalg.svd(B, compute_uv=False)
    else:
        gram = B.T @ B if B.shape[0] >= B.shape[1] else B @ B.T
        s = np.sqrt(np.maximum(np.linalg.eigvalsh(gram), 0.0))[::-1]
        rtol = max(rtol, 1e-7)
    return int(np.sum(s > rtol * s[0])) if s[0] > 0 else 0


def _verdict(c):
    """The one-line verdict of :class:`TheoremConditions` fields ``c`` (a dict)."""
    fails = []
    if not c["dual_unique"]:
        more = f" > {c['free_unknowns']} unknowns" if c["unclipped_rows"] > c["free_unknowns"] else ""
        zero = f" ({c['zero_rows']} of them zero)" if c["zero_rows"] else ""
        fails.append(f"{c['unclipped_rows']} unclipped dual rows{more}{zero} of rank {c['rank']}: dual not unique (1)")
    if not c["primal_unique"]:
        fails.append(f"rank {c['rank']} < {c['free_unknowns']} free unknowns: primal not unique (1)")
    if not c["nondegenerate"]:
        fails.append(f"kink margin {c['kink_margin']:.1e}: degenerate (2)")
    if not c["nonsingular"]:
        fails.append(f"sigma_min(I - J^T) = {c['sigma_min']:.1e}: singular (3)")
    svd = "not computed" if np.isnan(c["sigma_min"]) else f"{c['sigma_min']:.2e}"
    held = (f"{c['unclipped_rows']} unclipped rows, {c['free_unknowns']} free unknowns, rank {c['rank']}; "
            f"kink margin {c['kink_margin']:.2e}; sigma_min(I - J^T) {svd}")
    if not c["theta_is_one"]:
        return (f"the theorem is stated for theta = 1 and does not cover theta = {c['theta']:g}; its conditions 1-3: "
                + ("; ".join(fails) if fails else f"hold ({held})"))
    if fails:
        return "the theorem does NOT apply: " + "; ".join(fails)
    return f"the theorem applies: {held}"


def theorem_conditions(K, F, G, x, x_star, xi_star, *, tau, sigma, theta=1.0, margin_tol=1e-6, rtol=1e-10,
                       sv_tol=1e-8, dense_max=2000):
    """The conditions of the theorem of section 5C at a solved problem, in numbers, with a one-line verdict.

    Check them before trusting an implicit gradient: the agreement of the implicit gradient with
    finite differences or with long unrolling is a consequence of the theorem, not evidence for
    its hypotheses. F* must have a 0/1 prox derivative (F = beta ||.||_1: prox_{sigma F*} clips);
    G may be masked (L1, Zero), the ball (L2Ball), SquaredL2 or ElasticL1 (the strongly convex remedy (1.5)).

    Parameters
    ----------
    K, F, G, x : the problem (1.1), unbatched; x_star, xi_star : its (approximate) solution
    tau, sigma, theta : the step sizes of the iteration the theorem speaks about
    margin_tol : kink margins at or below it count as degenerate (choose it above the solve's error)
    rtol : singular values of K_M at or below rtol * the largest count as zero (for ``rank``; at least 1e-7
        when K_M has more than 10**6 entries, ranked through its Gram matrix)
    sv_tol : sigma_min(I - J^T) at or below it counts as singular
    dense_max : largest 2n + k for which I - J^T is built densely (by 2n + k backward steps)

    Returns
    -------
    TheoremConditions

    Examples
    --------
    >>> from cpteach import problems
    >>> p = problems.l1_l1_problem()
    >>> c = theorem_conditions(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
    >>> c.applies, c.unclipped_rows == c.free_unknowns == c.rank
    (True, True)
    """
    x = check_problem(K, F, G, x)
    if x.shape != tuple(K.shape_in):
        raise ValueError(f"theorem_conditions takes one problem, x of shape {tuple(K.shape_in)}, got {x.shape}; "
                         "check each sample of a batch on its own")
    tau, sigma, theta = check_steps(K, tau, sigma, theta)
    x_star = _validate.primal(K, x, x_star, "x_star")
    xi_star = _validate.dual(K, x, xi_star, "xi_star")
    margin_tol = _validate.nonnegative("margin_tol", margin_tol)
    F_conj = F.conjugate()
    if not F_conj.has_mask:
        raise TypeError(f"theorem_conditions needs a 0/1 prox derivative of F* (e.g. F = prox.L1()), got F = {F!r}")
    if not (G.has_mask or isinstance(G, (prox.L2Ball, prox.SquaredL2, prox.ElasticL1))):
        raise TypeError(f"theorem_conditions knows G with a 0/1 prox derivative (L1, Zero), L2Ball, SquaredL2 and "
                        f"ElasticL1, got G = {G!r}; check its conditions by hand (section 5C)")
    v_P, z_D = _fixed_point_arguments(K, x, x_star, xi_star, tau, sigma)      # (2.1), (2.3) at the fixed point
    M_D, M_P = _solution_masks(F_conj, G, v_P, z_D, tau, sigma)
    B = _masked_matrix(K, M_P, M_D)                                            # K_M on the active sets
    rank = _rank(B, rtol)
    mu, kappa = _damping(G, v_P, tau, K, xi_star)
    margin = float(min(np.min(_kink_distance(G, v_P, tau)), np.min(_kink_distance(F_conj, z_D, sigma))))
    dim = 2 * x.size + xi_star.size
    sigma_min = np.nan
    if dim <= dense_max:
        A = _adjoint_system(K, F_conj, G, x, x_star, xi_star, tau, sigma, theta).operator
        sigma_min = float(np.linalg.svd(A.matmat(np.eye(dim)), compute_uv=False)[-1])   # I - J^T of (5.5)
    zero_rows = int(np.sum(~np.any(B != 0, axis=1)))                          # rows of K_M without an entry
    c = dict(n=x.size, k=xi_star.size, unclipped_rows=int(M_D.sum()), free_unknowns=int(M_P.sum()), rank=rank,
             zero_rows=zero_rows,
             dual_unique=rank == int(M_D.sum()),
             primal_unique=rank == int(M_P.sum()) if G.has_mask else bool(kappa < 1),      # strong convexity
             kink_margin=margin, nondegenerate=margin > margin_tol, mu=mu, kappa=kappa, sigma_min=sigma_min,
             nonsingular=not sigma_min <= sv_tol,                        # NaN (not computed) does not fail
             theta_is_one=theta == 1)
    applies = all(c[name] for name in ("theta_is_one", "dual_unique", "primal_unique", "nondegenerate", "nonsingular"))
    return TheoremConditions(**c, applies=bool(applies), verdict=_verdict({**c, "theta": theta}))
