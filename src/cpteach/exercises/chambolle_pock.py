"""Exercises of notebook 01, docs/theory.md section 2 (the Chambolle-Pock iteration): prox maps and one step.

Examples
--------
>>> prox_l1.check(None).outcome
<Outcome.NOT_ATTEMPTED: 'not attempted'>
>>> bool(prox_l1.check(lambda v, step: v))
False
"""
from __future__ import annotations

import numpy as np

from .. import operators, prox
from ..chambolle_pock import CPState
from ..chambolle_pock import cp_step as _library_cp_step   # this module's cp_step is the exercise
from ._framework import Exercise, call_student, compare, first_match, matches

__all__ = ["ProxL1", "ProxConjugateL1", "CPStep", "prox_l1", "prox_conjugate_l1", "cp_step"]


def _soft(v, t):
    return np.sign(v) * np.maximum(np.abs(v) - t, 0.0)


class ProxL1(Exercise):
    """Implement prox_{step ||.||_1}(v) (soft thresholding), ``prox_l1(v, step)``."""

    name = "prox of the L1 norm"
    hint_text = ("The problem min_u 0.5*(u - v)^2 + step*|u| separates over the entries. "
                 "Where |v| is large the minimiser moves v towards 0 by a fixed amount; "
                 "where |v| is small it is exactly 0. How does that amount depend on step?")
    solution_code = """
def prox_l1(v, step):
    return np.sign(v) * np.maximum(np.abs(v) - step, 0.0)
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(1)
        v = rng.uniform(-3, 3, 40)
        for step in (0.7, 1.7, 0.05):
            got = call_student(answer, v, step)
            problem = compare(f"prox_l1(v, step={step})", got, _soft(v, step))
            if problem is None:
                continue
            mistakes = [
                (_soft(v, 1.0), "your prox ignores the step size (it thresholds at 1 for every step)."),
                (v * (np.abs(v) > step), "entries with |v| > step are kept unchanged: that is hard "
                                         "thresholding; the prox also shrinks the large entries."),
                (v - step * np.sign(v), "entries with |v| <= step cross zero: they must become exactly 0."),
                (np.clip(v, -step, step), "that is the projection onto [-step, step], the prox of the "
                                          "conjugate; Moreau's identity (2.6) relates it to the prox you want."),
                (_soft(v, 2 * step), "your prox shrinks by the wrong amount (too much)."),
                (_soft(v, step / 2), "your prox shrinks by the wrong amount (too little)."),
                (_soft(v, step * step), "your prox shrinks by the wrong amount (step enters linearly)."),
            ]
            return (first_match(got, mistakes)
                    or problem + " Compare your output with soft thresholding on a few numbers by hand.")
        return None


class ProxConjugateL1(Exercise):
    """Implement prox_{sigma F*} for F = ||.||_1 via Moreau's identity (2.6), ``prox_conj(v, sigma)``."""

    name = "prox of the conjugate via Moreau"
    hint_text = ("Moreau's identity (2.6): prox_{sigma F*}(v) = v - sigma * prox_{F/sigma}(v / sigma). "
                 "Use your soft thresholding with the threshold that prox_{F/sigma} needs. "
                 "Sanity check: F* is the indicator of a box, so the result must lie in that box.")
    solution_code = """
def prox_conj(v, sigma):
    soft = np.sign(v / sigma) * np.maximum(np.abs(v / sigma) - 1.0 / sigma, 0.0)  # prox_{F/sigma}(v/sigma)
    return v - sigma * soft                                                       # (2.6), = clip(v, -1, 1)
"""

    def _diagnose(self, answer):
        rng = np.random.default_rng(2)
        v = rng.uniform(-4, 4, 40)
        for sigma in (0.3, 2.5):
            got = call_student(answer, v, sigma)
            problem = compare(f"prox_conj(v, sigma={sigma})", got, np.clip(v, -1, 1))
            if problem is None:
                continue
            mistakes = [
                (np.clip(v, -sigma, sigma), "you applied Moreau with the unscaled prox (v - prox_{sigma F}(v)): "
                                            "(2.6) needs prox_{F/sigma} at v/sigma; the result should not "
                                            "depend on sigma for this F."),
                (_soft(v, sigma), "you returned prox_{sigma F} itself (soft thresholding), not the prox "
                                  "of the conjugate F*."),
                (_soft(v, 1.0), "you returned the shrunken part; Moreau's identity subtracts it from v."),
            ]
            return first_match(got, mistakes) or problem + " Check each factor sigma in (2.6)."
        return None


def _cp_step_variant(K, x, x_l, x_bar, xi, tau, sigma, theta, variant):
    """One CP step for F = ||.||_1, G = 0.5||.||^2 with one known mistake (the checker's wrong answers)."""
    z_D = xi + sigma * K @ (x_l if variant == "x_not_bar" else x_bar)
    xi_new = np.clip(z_D, -1, 1)
    z_P = x_l - tau * K.T @ (xi if variant == "old_xi" else xi_new)
    x_new = z_P / (1 + tau) if variant == "no_shift" else (z_P - x) / (1 + tau) + x
    sign = -1 if variant == "extrapolation_sign" else 1
    return x_new, x_new + sign * theta * (x_new - x_l), xi_new


class CPStep(Exercise):
    """Implement one CP step (2.1)-(2.5): ``cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta)``.

    For F = ||.||_1 (prox_{sigma F*} = clipping to [-1, 1]) and G = 0.5||.||^2
    (prox_{tau G}(v) = v / (1 + tau)); K is a NumPy matrix; return
    ``(x_next, x_bar_next, xi_next)``. The reference is one step of
    :func:`cpteach.chambolle_pock` (:func:`library_step`).
    """

    name = "one Chambolle-Pock step"
    hint_text = ("Follow (2.1)-(2.5) line by line: the dual update uses the extrapolated x_bar, "
                 "the primal update uses the NEW xi and K transposed, G acts on u - x (shift by the "
                 "data x before the prox and back after it), and x_bar moves further in the "
                 "direction x^{l+1} - x^l.")
    solution_code = """
def cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta):
    z_D = xi + sigma * K @ x_bar                 # (2.1)
    xi_next = np.clip(z_D, -1.0, 1.0)            # (2.2)
    z_P = x_l - tau * K.T @ xi_next              # (2.3)
    x_next = (z_P - x) / (1.0 + tau) + x         # (2.4)
    x_bar_next = x_next + theta * (x_next - x_l) # (2.5)
    return x_next, x_bar_next, xi_next
"""

    _messages = {
        "x_not_bar": "(2.1) uses the extrapolated point x_bar^l, not x^l.",
        "old_xi": "(2.3) must use the new dual iterate xi^{l+1}, not xi^l.",
        "no_shift": "G acts on u - x: (2.4) is prox_{tau G}(z_P - x) + x; you forgot the shift by the data x.",
        "extrapolation_sign": "sign of the extrapolation (2.5): x_bar^{l+1} = x^{l+1} + theta (x^{l+1} - x^l).",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(3)
        K = rng.standard_normal((6, 5)) / 4            # tau*sigma*||K||^2 < 1 for the steps below
        x, x_l, x_bar = rng.standard_normal((3, 5))
        xi = rng.uniform(-1, 1, 6)
        tau, sigma, theta = 0.3, 0.2, 0.7
        got = call_student(answer, K, x, x_l, x_bar, xi, tau, sigma, theta)
        if not isinstance(got, tuple) or len(got) != 3:
            return "return a tuple (x_next, x_bar_next, xi_next)."
        right = library_step(operators.Matrix(K), prox.L1(), prox.SquaredL2(), x, x_l, x_bar, xi, tau, sigma, theta)
        problems = [compare(name, g, r) for name, g, r in zip(("x_next", "x_bar_next", "xi_next"), got, right)]
        if all(p is None for p in problems):
            return None
        for variant, message in self._messages.items():
            wrong = _cp_step_variant(K, x, x_l, x_bar, xi, tau, sigma, theta, variant)
            if all(matches(g, w) for g, w in zip(got, wrong)):
                return message
        return " ".join(p for p in problems if p) + " Go through (2.1)-(2.5) in order."


prox_l1 = ProxL1()
prox_conjugate_l1 = ProxConjugateL1()
cp_step = CPStep()


def library_step(K, F, G, x, x_l, x_bar, xi, tau, sigma, theta):
    """One step (2.1)-(2.5) of :func:`cpteach.chambolle_pock`: (x^l, x_bar^l, xi^l) -> (x^{l+1}, x_bar^{l+1}, xi^{l+1}).

    The checkers use :func:`cpteach.chambolle_pock.cp_step` as the reference step (the CP step is
    written once, in the library).
    """
    state = _library_cp_step(K, F, G, x, CPState(x=x_l, x_bar=x_bar, xi=xi), tau=tau, sigma=sigma, theta=theta).state
    return state.x, state.x_bar, state.xi
