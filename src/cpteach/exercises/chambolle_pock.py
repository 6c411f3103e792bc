"""Exercises of notebook 01, docs/theory.md section 2 (the Chambolle-Pock iteration): prox maps and one step.

Examples
--------
>>> prox_l1.check(None).outcome
<Outcome.NOT_ATTEMPTED: 'not attempted'>
>>> bool(prox_l1.check(lambda v, step: v))
False
"""
from __future__ import annotations

import itertools

import numpy as np

from .. import operators, prox
from ..chambolle_pock import CPState
from ..chambolle_pock import cp_step as _library_cp_step   # this module's cp_step is the exercise
from ._framework import Exercise, as_array, call_student, compare, first_match, matches, parts

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
    shape_error_hint = ""

    def _diagnose(self, answer):
        rng = np.random.default_rng(1)
        v = rng.uniform(-3, 3, 40)
        v[:3] = 0.0, 0.3, -0.3                    # an exact zero: a division by |v| shows as NaN
        for step in (0.7, 1.7, 0.05):
            got = call_student(answer, v, step, when=f"step = {step}")
            problem = compare(f"prox_l1(v, step={step})", got, _soft(v, step))
            if problem is None:
                continue
            big = np.abs(v) > step
            mistakes = [
                (_soft(v, 1.0), "your prox ignores the step size (it thresholds at 1 for every step)."),
                (v * big, "entries with |v| > step are kept unchanged: that is hard "
                          "thresholding; the prox also shrinks the large entries."),
                (v - step * np.sign(v), "entries with |v| <= step cross zero: they must become exactly 0."),
                (np.clip(v, -step, step), "that is the projection onto [-step, step], the prox of the "
                                          "conjugate; Moreau's identity (2.6) relates it to the prox you want."),
                (np.maximum(v - step, 0.0), "negative entries are set to 0: soft thresholding is symmetric, "
                                            "shrink |v| and keep the sign of v."),
                (np.sign(v) * (np.abs(v) + step) * big, "sign: the large entries move away from 0; the prox "
                                                        "moves them towards 0 by step."),
                (-_soft(v, step), "sign: your result has the opposite sign of v."),
                (_soft(v, 2 * step), "your prox shrinks by the wrong amount (too much)."),
                (_soft(v, step / 2), "your prox shrinks by the wrong amount (too little)."),
                (_soft(v, step * step), "your prox shrinks by the wrong amount (step enters linearly)."),
                (_soft(v, 1 / step), "your prox shrinks by 1/step; the threshold is step itself."),
                (v + step * np.sign(v), "sign: you added step * sign(v), which moves every entry away from 0; "
                                        "the prox moves v towards 0 by step (and sets |v| <= step to 0)."),
            ]
            which = self._which_entries(got, v, step)
            return (first_match(got, mistakes) or (which and f"{problem} {which}")
                    or problem + " Compare your output with soft thresholding on a few numbers by hand.")
        return None

    @staticmethod
    def _which_entries(got, v, step):
        """The one group of entries that is wrong (by sign, else by size), when the others are right."""
        got = as_array(got)
        if got is None or got.shape != v.shape or not np.all(np.isfinite(got)):
            return None
        right = _soft(v, step)
        advice = {"negative entries (v < 0)": "soft thresholding is symmetric: v < -step is shrunk towards 0 "
                                              "too, to v + step, and -step <= v < 0 becomes 0.",
                  "positive entries (v > 0)": "v > step is shrunk towards 0, to v - step, and 0 < v <= step "
                                              "becomes 0.",
                  "large entries (|v| > step)": "they are shrunk towards 0 by step, keeping their sign.",
                  "small entries (|v| <= step)": "they become exactly 0."}
        names = list(advice)
        for pair, groups in ((names[:2], (v < 0, v > 0)), (names[2:], (np.abs(v) > step, np.abs(v) <= step))):
            wrong = [name for name, where in zip(pair, groups) if not matches(got[where], right[where])]
            if len(wrong) == 1:
                return f"Only the {wrong[0]} are wrong (the others are right): {advice[wrong[0]]}"
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
    shape_error_hint = ""

    def _diagnose(self, answer):
        rng = np.random.default_rng(2)
        v = rng.uniform(-4, 4, 40)
        for sigma in (0.3, 2.5):
            got = call_student(answer, v, sigma, when=f"sigma = {sigma}")
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
                (v - sigma * _soft(v, 1 / sigma), "(2.6) evaluates prox_{F/sigma} at v / sigma, not at v."),
                (v - _soft(v / sigma, 1 / sigma), "(2.6) multiplies prox_{F/sigma}(v / sigma) by sigma before "
                                                  "subtracting it from v."),
                (v + sigma * _soft(v / sigma, 1 / sigma), "sign in (2.6): Moreau's identity subtracts "
                                                          "sigma prox_{F/sigma}(v / sigma) from v."),
                (v - sigma * _soft(v / sigma, sigma), "the threshold of prox_{F/sigma} is 1/sigma, not sigma."),
                (np.clip(v, -1 / sigma, 1 / sigma), "F* is the indicator of [-1, 1] for every sigma: your box "
                                                    "[-1/sigma, 1/sigma] depends on sigma."),
                (v - sigma * _soft(v * sigma, 1 / sigma), "(2.6) evaluates prox_{F/sigma} at v / sigma: you "
                                                          "multiplied v by sigma instead of dividing."),
                (v - sigma * _soft(v * sigma, sigma), "(2.6) evaluates prox_{F/sigma} at v / sigma (you multiplied "
                                                      "v by sigma instead of dividing), with threshold 1/sigma."),
            ]
            message = first_match(got, mistakes)
            if message is not None:
                return message
            arr = as_array(got)
            if arr is not None and arr.shape == v.shape and np.max(np.abs(arr)) > 1 + 1e-6:
                return (problem + " Your result leaves the box [-1, 1]: F* is the indicator of that box, so "
                        "prox_{sigma F*} maps into it.")
            return problem + " Check each factor sigma in (2.6)."
        return None


_CP_NAMES = ("x_next", "x_bar_next", "xi_next")


def _cp_step_variant(K, x, x_l, x_bar, xi, tau, sigma, theta, variant=None):
    """One CP step for F = ||.||_1, G = 0.5||.||^2, or one known mistake in it (the checker's wrong answers)."""
    if variant == "swap_steps":
        tau, sigma = sigma, tau
    theta = {"theta_one": 1.0, "theta_zero": 0.0}.get(variant, theta)
    z_D = xi + sigma * K @ (x_l if variant == "x_not_bar" else x_bar)                       # (2.1)
    xi_new = z_D if variant == "no_clip" else np.clip(z_D, -1, 1)                          # (2.2)
    start = x if variant == "data_start" else x_l
    sign = 1 if variant == "plus_KT" else -1
    z_P = start + sign * tau * K.T @ (xi if variant == "old_xi" else xi_new)               # (2.3)
    x_new = {"no_shift": z_P / (1 + tau), "shift_back_only": z_P / (1 + tau) + x,
             "times_one_plus_tau": (z_P - x) * (1 + tau) + x,
             "no_half": (z_P - x) / (1 + 2 * tau) + x}.get(variant, (z_P - x) / (1 + tau) + x)   # (2.4)
    sign = -1 if variant == "extrapolation_sign" else 1
    previous = x_bar if variant == "bar_from_bar" else x_l
    return x_new, x_new + sign * theta * (x_new - previous), xi_new                         # (2.5)


class CPStep(Exercise):
    """Implement one CP step (2.1)-(2.5): ``cp_step(K, x, x_l, x_bar, xi, tau, sigma, theta)``.

    For F = ||.||_1 (prox_{sigma F*} = clipping to [-1, 1]) and G = 0.5||.||^2
    (prox_{tau G}(v) = v / (1 + tau)); K is a NumPy matrix; return
    ``(x_next, x_bar_next, xi_next)`` (a tuple or a list). The reference is one step of
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
        "shift_back_only": "the shift by x in (2.4) is only half done: subtract x before the prox, add it back "
                           "after.",
        "extrapolation_sign": "sign of the extrapolation (2.5): x_bar^{l+1} = x^{l+1} + theta (x^{l+1} - x^l).",
        "theta_one": "theta is ignored in (2.5): your step extrapolates with theta = 1 whatever theta is.",
        "theta_zero": "theta is ignored in (2.5): your x_bar^{l+1} is x^{l+1}, no extrapolation.",
        "swap_steps": "tau and sigma are swapped: sigma is the dual step (2.1), tau the primal step (2.3)-(2.4).",
        "no_clip": "(2.2) is missing: xi^{l+1} = prox_{sigma F*}(z_D), the clipping to [-1, 1].",
        "plus_KT": "sign in (2.3): z_P = x^l - tau K^T xi^{l+1} (a descent step in x).",
        "data_start": "(2.3) starts from the current iterate x^l, not from the data x.",
        "bar_from_bar": "(2.5) extrapolates along x^{l+1} - x^l, not x^{l+1} - x_bar^l.",
        "times_one_plus_tau": "(2.4): prox_{tau G}(v) = v / (1 + tau) for G = 0.5||.||^2: divide by 1 + tau, "
                              "you multiplied.",
        "no_half": "(2.4): v / (1 + 2 tau) is the prox of tau||.||^2; G = 0.5||.||^2 has the factor 1/2, so "
                   "prox_{tau G}(v) = v / (1 + tau).",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(3)
        K = rng.standard_normal((6, 5)) / 2            # tau*sigma*||K||^2 < 1 for the steps below
        x, x_l, x_bar = rng.standard_normal((3, 5))
        xi = np.array([-0.9, -0.95, 0.2, -0.1, 0.95, 0.5])   # z_D leaves [-1, 1] in 3 entries
        tau, sigma, theta = 0.3, 0.45, 0.7
        args = (K, x, x_l, x_bar, xi, tau, sigma, theta)
        got, problem = parts(call_student(answer, *args), _CP_NAMES)
        if problem is not None:
            return problem
        right = library_step(operators.Matrix(K), prox.L1(), prox.SquaredL2(), x, x_l, x_bar, xi, tau, sigma, theta)
        problems = [compare(name, g, r) for name, g, r in zip(_CP_NAMES, got, right)]
        if all(p is None for p in problems):
            return None
        for order in itertools.permutations(range(3)):           # the right results in another order
            if all(matches(got[i], right[j]) for i, j in enumerate(order)):
                yours = ", ".join(_CP_NAMES[j] for j in order)
                return f"you returned ({yours}); return the results in the order (x_next, x_bar_next, xi_next)."
        for variant, message in self._messages.items():
            wrong = _cp_step_variant(*args, variant)
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
