"""Exercises of notebooks 03a and 03b, docs/theory.md section 4 (asymptotics of the adjoints): the limit (4.3) of
delta_P and two predict-then-verify questions (l_o as tau -> 0; why Delta_P = 0 for a unique solution).

Examples
--------
>>> q = PredictLo()
>>> q.check(None).outcome
<Outcome.NOT_ATTEMPTED: 'not attempted'>
>>> q.check("b").outcome
<Outcome.INCORRECT: 'incorrect'>
"""
from __future__ import annotations

import re

import numpy as np
import scipy.linalg

from .. import operators
from ..asymptotics import projection_limit
from ._framework import Exercise, MultipleChoice, as_array, call_student, compare, first_match

__all__ = ["DeltaPLimit", "PredictLo", "WhyDeltaPZero", "delta_P_limit"]


def _null_space_projection(A, e):
    """Orthogonal projection of e onto ker(A) (dense SVD)."""
    N = scipy.linalg.null_space(A)
    return N @ (N.T @ e)


class DeltaPLimit(Exercise):
    """Implement the limit (4.3) of delta_P^l: ``delta_P_limit(K, M_P, M_D, e)``, the orthogonal
    projection of M_P e onto range(M_P) ∩ ker(M_D K).

    ``K`` is a NumPy matrix (k x n), ``M_P`` a bool array of length n (primal mask),
    ``M_D`` a bool array of length k (dual mask), ``e`` an array of length n.
    """

    name = "the limit (4.3) of delta_P"
    hint_text = ("Two questions reduce the problem to a smaller matrix. Where can a vector of range(M_P) be non-zero, "
                 "so which columns of K can it see? Which rows of K does the condition M_D K v = 0 involve? Then "
                 "recall how to project onto the null space of a matrix once you have an orthonormal basis of it "
                 "(scipy.linalg.null_space gives one), and where the answer has to be zero.")
    solution_code = """
def delta_P_limit(K, M_P, M_D, e):
    import scipy.linalg
    A = K[np.ix_(M_D, M_P)]                   # M_D K M_P on the active rows and columns
    N = scipy.linalg.null_space(A)            # orthonormal basis of its kernel
    out = np.zeros(K.shape[1])
    out[M_P] = N @ (N.T @ e[M_P])             # (4.3): projection of M_P e
    return out
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(6)
        K = rng.standard_normal(self._SHAPE)
        M_P = np.array([True, True, False, True, True, False, True])     # |M_P| = 5
        M_D = np.array([True, False, True, True])                         # |M_D| = 3: kernel of dimension 2
        e = rng.standard_normal(7)
        right = projection_limit(operators.Matrix(K), M_P, M_D, e)
        got = call_student(answer, K, M_P, M_D, e)
        problem = compare("delta_P_limit(K, M_P, M_D, e)", got, right)
        if problem is None:
            return None
        unmasked = np.zeros(7)
        unmasked[M_P] = _null_space_projection(K[:, M_P], e[M_P])
        inverted = np.zeros(7)
        inverted[M_P] = _null_space_projection(K[np.ix_(~M_D, M_P)], e[M_P])
        candidates = [
            (np.zeros(7), "your result is 0, but here range(M_P) ∩ ker(M_D K) is not {0} (M_D K M_P has more "
                          "columns than rows): the limit is 0 only when that intersection is trivial."),
            (M_P * e, "you returned M_P e itself; (4.3) projects it onto range(M_P) ∩ ker(M_D K)."),
            (M_P * e - right, "you returned the component of M_P e orthogonal to range(M_P) ∩ ker(M_D K) (the row "
                            "space instead of the null space?); (4.3) is the projection onto the subspace."),
            (unmasked, "you used ker(K): (4.2)-(4.3) only need M_D K delta_P = 0, the rows where M_D is False "
                       "do not constrain the limit (this is the erratum to the poster's 'in ker K')."),
            (inverted, "you used the rows where M_D is False: ker(M_D K) constrains the rows where M_D is True "
                       "(the unclipped dual entries)."),
            (_null_space_projection(K[M_D], e), "your projection onto ker(M_D K) ignores the primal mask: the "
                                              "limit also lies in range(M_P) (zero where M_P is False)."),
            (M_P * _null_space_projection(K[M_D], e), "you projected onto ker(M_D K) first and applied M_P afterwards: "
                                                  "the masked vector is no longer in ker(M_D K); restrict K to the "
                                                  "columns where M_P is True, then project e restricted to M_P."),
        ]
        message = first_match(got, candidates)
        if message is not None:
            return message
        got = as_array(got)
        if got is None or got.shape != right.shape:
            return problem
        if np.any(np.abs(got[~M_P]) > 1e-6 * max(1.0, np.max(np.abs(got)))):
            return "your result is non-zero where M_P is False; the limit lies in range(M_P)."
        if np.linalg.norm(K[M_D] @ got) > 1e-7 * max(1.0, np.linalg.norm(got)):
            return "M_D K (your result) is not 0, so your result is not in ker(M_D K)."
        return ("your result lies in range(M_P) ∩ ker(M_D K) but is not the orthogonal projection: "
                "M_P e - result must be orthogonal to that subspace (so must e - result: the subspace lies in "
                "range(M_P)).")

    _SHAPE = (4, 7)        # the checker's K is k x n

    def _explain_error(self, err):
        if isinstance(err, IndexError):
            return (" A boolean index of the wrong length: did you swap M_P and M_D? M_D (length k) selects rows "
                    "of K, M_P (length n) selects columns.")
        k, n = self._SHAPE
        shapes = re.findall(r"\(([\d, ]*)\)", str(err))
        sizes = {int(size) for shape in shapes for size in shape.replace(" ", "").split(",") if size}
        if isinstance(err, ValueError) and "broadcast" in str(err) and {k, n} <= sizes:
            return (f" A length-{k} array met a length-{n} one entry by entry: did you swap M_P and M_D? M_P "
                    f"(length n = {n}) masks the primal entries (e and the columns of K), M_D (length k = {k}) the "
                    "dual entries (the rows of K).")
        return super()._explain_error(err)


class PredictLo(MultipleChoice):
    """Predict, then verify: how does l_o (the iteration after which the masks (4.1) settle) behave as tau -> 0?

    Use in a notebook::

        q = exercises.PredictLo()
        q                     # shows the question and the choices
        answer = None         # your choice: "a", "b", "c" or "d"
        q.check(answer)

    then verify with :func:`cpteach.asymptotics.masks` on runs with tau, tau/2, tau/4, ...
    (``q.solution()`` shows the answer and why).
    """

    name = "predict l_o as tau -> 0"
    question = ("Keep the problem (an L1-type problem with 0/1 masks and a unique, nondegenerate solution) and "
                "sigma fixed, and make the primal step tau smaller and smaller. What happens to l_o, the "
                "iteration after which the masks M_P^l, M_D^l of (4.1) no longer change?")
    choices = {
        "a": "l_o tends to 0: with small steps the masks are right from the first iteration.",
        "b": "l_o stays about the same: the masks are a property of the solution, not of the steps.",
        "c": "l_o grows without bound, roughly like 1/tau.",
        "d": "Below some tau the masks never settle: l_o no longer exists.",
    }
    answer = "c"
    feedback = {
        "a": "the iteration starts at x^0 = x, far from x*: what decides when the masks are right is how fast "
             "the iterates travel to the solution. How far does one step move x when tau is small?",
        "b": "the final masks indeed do not depend on tau here, but l_o counts iterations until they are reached. "
             "How far does one step move x when tau is small?",
        "d": "for every tau > 0 with tau*sigma*||K||^2 < 1 the iteration converges, and with a nondegenerate "
             "solution the masks are identified after finitely many steps (finite identification).",
    }
    hint_text = ("z_P^{l+1} = x^l - tau K^T xi^{l+1}: how far can x move in one step? The masks are final once "
                 "every entry of z_P - x and z_D is on the same side of its kink as at the solution.")
    explanation = ("Each primal step moves x by tau K^T xi, so the distance from x^0 = x to x* takes about "
                   "1/tau times more steps to cover; the masks are final only once the iterates are close enough "
                   "to x* that every entry sits on the same side of its kink as at the solution (finite "
                   "identification under nondegeneracy; Liang, Fadili & Peyre 2018 bound l_o and the local "
                   "rate; docs/theory.md section 4). The final masks themselves do not change with tau here. Verify "
                   "it: run "
                   "cpteach.asymptotics.masks on runs with tau, tau/2, tau/4, ... (sigma fixed) and compare "
                   "l_o * tau.")


class WhyDeltaPZero(MultipleChoice):
    """Why is Delta_P = 0 for notebook 03b's summable L1-L1 problem, although delta_P^L = M_P e* is not 0?

    Use in a notebook (after computing Delta_P, e.g. ``implicit_gradient(...).Delta_P``)::

        q = exercises.WhyDeltaPZero()
        q                     # shows the question and the choices
        answer = None         # your choice: "a", "b", "c" or "d"
        q.check(answer)

    and verify with the masks: ``M_P.sum()`` entries are free, M_D K M_P restricted to them has
    full column rank (``np.linalg.matrix_rank(K[np.ix_(M_D, M_P)])``), and ``res.delta_P[-1]``
    is not zero. ``q.solution()`` shows the answer and why.
    """

    name = "why is Delta_P = 0 here?"
    question = ("For the summable L1-L1 problem (F = 0.2||.||_1, G = 0.3||.||_1, K a random 20 x 10 matrix) "
                "the sum Delta_P of (4.4) is 0 up to rounding, while Delta_D is not, and the first adjoint "
                "behind the output, delta_P^L = M_P (x^L - y), is clearly non-zero. Why is Delta_P = 0?")
    choices = {
        "a": "Every delta_P^l is 0, so their sum is 0.",
        "b": "The primal solution equals the data in every entry (x* = x), so the primal mask M_P is 0.",
        "c": "Summing (3.2)-(3.3) with the final 0/1 masks puts Delta_P in range(M_P) ∩ ker(M_D K), and that "
             "subspace is {0} because the primal solution is unique.",
        "d": "The solution fits the ground truth (x* = y), so every adjoint vanishes.",
    }
    answer = "c"
    feedback = {
        "a": "the question says delta_P^L is clearly non-zero; the terms are not 0, only their sum.",
        "b": "look at x* - x: several entries are non-zero, so M_P is not 0 there.",
        "d": "then Delta_D would vanish too, and it does not (nor does x^L - y).",
    }
    hint_text = ("Sum (3.2) and (3.3) over l with the masks fixed (l >= l_o) and let L -> infinity. Which two "
                 "conditions does Delta_P then satisfy? Compare with the subspace in (4.3).")
    explanation = ("With fixed 0/1 masks M_P, M_D the summed recursions read "
                   "Delta_P = M_P (Delta_P + e* + sigma K^T Delta_D) and Delta_D = M_D (Delta_D - tau K Delta_P). The "
                   "second says M_D K Delta_P = 0, the first that Delta_P is zero where M_P is 0: Delta_P lies in "
                   "range(M_P) ∩ ker(M_D K), the subspace of (4.3) (docs/theory.md section 4D, 'Why Delta_P = 0'). For "
                   "a polyhedral problem with a unique primal solution (nondegenerate) that subspace is {0}: "
                   "M_D K restricted to the free entries is injective (check: the rank of K[np.ix_(M_D, M_P)] equals "
                   "M_P.sum()). The terms delta_P^l are not 0; they cancel in the sum. The first equation then fixes "
                   "Delta_D instead (M_P (e* + sigma K^T Delta_D) = 0), so only the term sigma Delta_D x*^T of (4.5) "
                   "remains.")


delta_P_limit = DeltaPLimit()
