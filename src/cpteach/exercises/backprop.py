"""Exercises of notebook 02, docs/theory.md section 3 (backpropagation): one backward step and the gradient sum.

Examples
--------
>>> backward_step.check(None).outcome
<Outcome.NOT_ATTEMPTED: 'not attempted'>
"""
from __future__ import annotations

import numpy as np

from .. import operators, prox
from ..backprop import backprop
from ..chambolle_pock import chambolle_pock
from ._framework import Exercise, as_array, call_student, compare, first_match, matches, parts

__all__ = ["BackwardStep", "GradientSum", "backward_step", "gradient_sum"]


def _backward_variant(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta,
                      variant=None):
    """One backward step (3.1)-(3.3), or one known mistake in it (the checker's answers)."""
    if variant == "swap_steps":
        tau, sigma = sigma, tau
    theta = {"no_extrapolation": 0.0, "theta_one": 1.0}.get(variant, theta)
    older = delta_D_next2 - delta_D_next if variant == "extrapolation_sign" else delta_D_next - delta_D_next2
    delta_D_bar = delta_D_next + theta * older                                                   # (3.1)
    if variant == "swap_next":
        delta_D_bar = delta_D_next2 + theta * (delta_D_next2 - delta_D_next)
    sigma_P = 1.0 if variant == "no_sigma" else sigma
    if variant == "prime_P_first_term":
        delta_P = prime_P * delta_P_next + sigma * K.T @ delta_D_bar
    else:
        delta_P = (1 if variant == "no_prime" else prime_P) * (delta_P_next + sigma_P * K.T @ delta_D_bar)  # (3.2)
    sign = 1 if variant == "sign_3_3" else -1
    delta_P_used = delta_P_next if variant == "old_delta_P" else delta_P
    start = delta_D_bar if variant == "bar_in_3_3" else delta_D_next
    if variant == "prime_D_first_term":
        return delta_P, prime_D * start + sign * tau * K @ delta_P_used
    delta_D = (1 if variant == "no_prime_D" else prime_D) * (start + sign * tau * K @ delta_P_used)  # (3.3)
    return delta_P, delta_D


class BackwardStep(Exercise):
    """Implement one backward step (3.1)-(3.3).

    ``backward_step(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta)``
    returns ``(delta_P, delta_D)`` = (delta_P^l, delta_D^l) (a tuple or a list) from
    delta_P^{l+1}, delta_D^{l+1}, delta_D^{l+2}; ``prime_P`` and ``prime_D`` are the
    elementwise prox derivatives prox'_{tau G}(z_P^l - x) and prox'_{sigma F*}(z_D^l) as arrays.
    """

    name = "one backward step"
    hint_text = ("x^l enters z_D^{l+1} through x_bar^l (coefficient (1+theta) sigma K) and z_D^{l+2} "
                 "through x_bar^{l+1} (coefficient -theta sigma K): collect both in delta_D_bar (3.1). "
                 "Then multiply by the prox derivative (3.2). For (3.3): xi^l enters z_D^{l+1} with I "
                 "and z_P^l with -tau K^T; which delta_P does z_P^l belong to?")
    solution_code = """
def backward_step(K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, tau, sigma, theta):
    delta_D_bar = delta_D_next + theta * (delta_D_next - delta_D_next2)   # (3.1)
    delta_P = prime_P * (delta_P_next + sigma * K.T @ delta_D_bar)        # (3.2)
    delta_D = prime_D * (delta_D_next - tau * K @ delta_P)                # (3.3)
    return delta_P, delta_D
"""

    _messages = {
        "no_extrapolation": "(3.1): the extrapolation theta (delta_D^{l+1} - delta_D^{l+2}) is missing; x^l "
                            "reaches two dual steps through x_bar.",
        "theta_one": "theta is ignored in (3.1): your step uses theta = 1 whatever theta is.",
        "extrapolation_sign": "sign of the extrapolation in (3.1): delta_D_bar = delta_D^{l+1} + theta "
                              "(delta_D^{l+1} - delta_D^{l+2}).",
        "no_prime": "(3.2) is missing the prox derivative prime_P (chain rule through (2.4)).",
        "prime_P_first_term": "(3.2): prime_P multiplies the whole bracket delta_P^{l+1} + sigma K^T delta_D_bar.",
        "no_prime_D": "(3.3) is missing the prox derivative prime_D (chain rule through (2.2)).",
        "sign_3_3": "sign in (3.3): z_P^l = x^{l-1} - tau K^T xi^l, so the term is -tau K delta_P^l.",
        "old_delta_P": "(3.3) uses delta_P^l, the adjoint just computed, not delta_P^{l+1}.",
        "bar_in_3_3": "(3.3) starts from delta_D^{l+1}, not from the extrapolated delta_D_bar (xi^l enters "
                      "z_D^{l+1} only).",
        "swap_steps": "tau and sigma are swapped: sigma K^T belongs to (3.2) (from (2.1)), tau K to (3.3) "
                      "(from (2.3)).",
        "swap_next": "(3.1): delta_D^{l+1} and delta_D^{l+2} are swapped; delta_D_bar = delta_D^{l+1} + theta "
                     "(delta_D^{l+1} - delta_D^{l+2}) (x^l enters z_D^{l+1} with (1 + theta), z_D^{l+2} with "
                     "-theta).",
        "prime_D_first_term": "(3.3): prime_D multiplies the whole bracket delta_D^{l+1} - tau K delta_P^l.",
        "no_sigma": "(3.2) is missing the step sigma: x_bar enters (2.1) as sigma K x_bar, so the term is "
                    "sigma K^T delta_D_bar.",
    }

    def _diagnose(self, answer):
        rng = np.random.default_rng(4)
        K = rng.standard_normal((6, 5))
        prime_P = rng.uniform(0.2, 1.0, 5)
        prime_D = (rng.uniform(size=6) > 0.4).astype(float)
        prime_D[:2] = 1.0
        delta_P_next = rng.standard_normal(5)
        delta_D_next, delta_D_next2 = rng.standard_normal((2, 6))
        args = (K, prime_P, prime_D, delta_P_next, delta_D_next, delta_D_next2, 0.3, 0.4, 0.8)
        got, problem = parts(call_student(answer, *args), ("delta_P", "delta_D"))
        if problem is not None:
            return problem
        right = _backward_variant(*args)
        problems = [compare(name, g, r) for name, g, r in zip(("delta_P", "delta_D"), got, right)]
        if all(p is None for p in problems):
            return None
        if matches(got[0], right[1]) and matches(got[1], right[0]):
            return "return the results in the order (delta_P, delta_D)."
        for variant, message in self._messages.items():
            wrong = _backward_variant(*args, variant=variant)
            if all(matches(g, w) for g, w in zip(got, wrong)):
                return message
        return " ".join(p for p in problems if p) + " Derive (3.1)-(3.3) once more from the forward step."


class GradientSum(Exercise):
    """Implement the sum (3.4): ``gradient_sum(trace, delta_P, delta_D)`` -> grad_K (k x n).

    ``trace`` is a :class:`cpteach.CPTrace` of a run with a Matrix K on 1-D data,
    ``delta_P[l-1]`` = delta_P^l and ``delta_D[l-1]`` = delta_D^l (as from
    :func:`cpteach.backprop`).
    """

    name = "the gradient sum (3.4)"
    hint_text = ("Sum over l = 1..L of sigma * outer(delta_D^l, x_bar^{l-1}) - tau * outer(xi^l, delta_P^l). "
                 "Use trace.x_bar(l - 1) and trace.xi(l); mind which index each factor carries.")
    solution_code = """
def gradient_sum(trace, delta_P, delta_D):
    grad = np.zeros((delta_D.shape[1], delta_P.shape[1]))
    for l in range(1, trace.L + 1):
        grad += trace.sigma * np.outer(delta_D[l - 1], trace.x_bar(l - 1))   # (3.4)
        grad -= trace.tau * np.outer(trace.xi(l), delta_P[l - 1])            # (3.4)
    return grad
"""

    @staticmethod
    def _terms(trace, delta_P, delta_D, point=lambda trace, l: trace.x_bar(l - 1), dual=lambda trace, l: trace.xi(l),
               last=None):
        """The two sums of (3.4) (without the minus sign), with the given iterates in each term."""
        last = trace.L if last is None else last
        first = sum(trace.sigma * np.outer(delta_D[l - 1], point(trace, l)) for l in range(1, last + 1))
        second = sum(trace.tau * np.outer(dual(trace, l), delta_P[l - 1]) for l in range(1, last + 1))
        return first, second

    def _diagnose(self, answer):
        rng = np.random.default_rng(5)
        K = operators.Matrix(rng.standard_normal((5, 4)) / 2)
        x, y = rng.standard_normal((2, 4))
        tau, sigma = 0.6 / K.norm(), 1.2 / K.norm()
        trace = chambolle_pock(K, prox.L1(0.5), prox.SquaredL2(), x, tau=tau, sigma=sigma, theta=0.7, L=6)
        res = backprop(trace, y)
        got = call_student(answer, trace, res.delta_P, res.delta_D)
        problem = compare("grad_K", got, res.grad_K)
        if problem is None:
            return None
        args = (trace, res.delta_P, res.delta_D)
        first, second = self._terms(*args)
        swapped = [trace.tau / trace.sigma * first, trace.sigma / trace.tau * second]
        final = self._terms(*args, point=lambda t, l: t.x_L, dual=lambda t, l: t.xi(t.L))
        candidates = [
            (-res.grad_K, "sign: the poster's start y - x^L gives the negative gradient; (3.4) with the "
                          "true adjoints is the gradient itself, do not flip it."),
            (first + second, "sign of the second term: K enters (2.3) as -tau K^T xi."),
            (first, "the second term of (3.4) (from K^T in (2.3)) is missing."),
            (-second, "the first term of (3.4) (from K in (2.1)) is missing."),
            (swapped[0] - swapped[1], "tau and sigma are swapped: sigma goes with delta_D^l (from (2.1)), tau "
                                      "with delta_P^l (from (2.3))."),
            (np.subtract(*self._terms(*args, point=lambda t, l: t.x(l - 1))),
             "(2.1) applies K to the extrapolated point: use x_bar^{l-1}, not x^{l-1}."),
            (np.subtract(*self._terms(*args, point=lambda t, l: t.x_bar(l))),
             "off-by-one in l: delta_D^l pairs with x_bar^{l-1} (the point K acted on in step l), not x_bar^l."),
            (np.subtract(*self._terms(*args, dual=lambda t, l: t.xi(l - 1))),
             "off-by-one in l: delta_P^l pairs with xi^l (the dual iterate K^T acted on in step l), not "
             "xi^{l-1}."),
            (np.subtract(*self._terms(*args, last=trace.L - 1)),
             "off-by-one in l: the sum runs over l = 1, ..., L; your last term (l = L) is missing."),
            (final[0] - final[1], "you used the final iterates x^L, xi^L in every term (the form of the limit "
                                  "(4.5), with x^L for x*); (3.4) pairs each adjoint with the iterates of its "
                                  "own step."),
        ]
        message = first_match(got, candidates)
        if message is not None:
            return message
        got = as_array(got)
        if got is not None and got.shape == res.grad_K.T.shape != res.grad_K.shape:
            return "your gradient is transposed: grad_K has the shape of K (k x n)."
        return problem + " Write (3.4) term by term."

    shape_error_hint = (" A shape error: each term of (3.4) is k x n, outer(delta_D^l, x_bar^{l-1}) and "
                        "outer(xi^l, delta_P^l) (the order of the factors of an outer product matters).")

    def _explain_error(self, err):
        if isinstance(err, IndexError):
            return (" An index out of range: an off-by-one in l? delta_P[l - 1] is delta_P^l for l = 1, ..., L, "
                    "and trace.x_bar(l), trace.xi(l) accept l = 0, ..., L.")
        return super()._explain_error(err)


backward_step = BackwardStep()
gradient_sum = GradientSum()
