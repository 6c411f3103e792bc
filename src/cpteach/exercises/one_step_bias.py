"""Predict-then-verify questions of notebook 04 on the one-step gradient's bias, docs/theory.md section 5D: does it
depend on the step sizes, and is a step against it a descent step?

Examples
--------
>>> q = PredictDescent()
>>> q.check("a").outcome
<Outcome.INCORRECT: 'incorrect'>
>>> q.verify(None, "the measured change").title
'Verify'
"""
from __future__ import annotations

from ._framework import MultipleChoice

__all__ = ["PredictStepRatio", "PredictDescent"]


class PredictStepRatio(MultipleChoice):
    """Predict, then verify: which gradient changes when only the step-size ratio sigma/tau changes?

    Use in a notebook before a sweep over sigma/tau (tau*sigma fixed)::

        q = exercises.PredictStepRatio()
        q                     # shows the question and the choices
        answer = None         # your choice: "a", "b", "c" or "d"
        q.check(answer)

    then verify with :func:`cpteach.fixed_point_gradient` and :func:`cpteach.implicit_gradient`
    at several ratios (``q.solution()`` shows the answer and why).
    """

    name = "predict which gradient depends on sigma/tau"
    question = ("Keep the problem (K, F, G, x, y) and the product tau*sigma fixed, and change only the ratio "
                "sigma/tau of the step sizes. Both runs reach the same solution (x*, xi*). Which of the two "
                "gradients of section 5, the one-step gradient (5.3) and the implicit gradient (5.5) with (4.5), "
                "changes?")
    choices = {
        "a": "Both change: each is built from one CP step, and the step depends on tau and sigma.",
        "b": "Only the one-step gradient changes.",
        "c": "Only the implicit gradient changes.",
        "d": "Neither changes: both depend only on the solution (x*, xi*).",
    }
    answer = "b"
    feedback = {
        "a": "each series term depends on the step, but the sum of the whole series is the derivative of "
             "K -> loss(y, x*(K)) (section 5C). Does x*(K) depend on tau and sigma?",
        "c": "the implicit gradient is the sum of the whole series. What does the sum converge to, and does "
             "that depend on how the algorithm reaches x*?",
        "d": "the one-step gradient keeps only the j = 0 term: it uses the derivatives of the two prox maps with "
             "steps tau and sigma, so it knows the algorithm, not only the solution.",
    }
    hint_text = ("Under the conditions of the theorem in section 5C the implicit gradient equals the derivative "
                 "of K -> 0.5||y - x*(K)||^2. Which of tau, sigma does x*(K) depend on? And which quantities enter "
                 "the single term (5.1)-(5.3)?")
    explanation = ("The implicit gradient sums the whole series; under the theorem's conditions (unique solution, "
                   "masks that settle, I - J^T invertible) it is the true hypergradient of K -> loss(y, x*(K)), "
                   "and x*(K) is a property of the model, not of the algorithm: it does not move with sigma/tau. "
                   "The one-step gradient keeps only the j = 0 term, built from prox'_{tau G} and "
                   "prox'_{sigma F*} and the factors sigma and tau of (5.3): it belongs to the algorithm, and its "
                   "length and direction move with sigma/tau (docs/theory.md section 5D). Verify it: compute "
                   "fixed_point_gradient and implicit_gradient at sigma/tau = 1/4 and 4 with tau*sigma fixed and "
                   "compare each pair.")


class PredictDescent(MultipleChoice):
    """Predict, then verify: does a small step against the normalised one-step gradient lower the solved loss?

    Use in a notebook after printing, for one problem, the cosine c between the one-step gradient and the
    implicit gradient (the true derivative there) and the length of the implicit gradient::

        q = exercises.PredictDescent()
        q                     # shows the question and the choices
        answer = None         # your choice: "a", "b", "c" or "d"
        q.check(answer)

    then measure the change of the solved loss by finite differences and show it with
    ``q.verify(answer, text)`` (``q.solution()`` shows the answer and why).
    """

    name = "predict a step against the one-step gradient"
    question = ("The cell above printed, for one problem, the cosine c between the one-step gradient and the implicit "
                "gradient grad* (the true derivative of the solved loss here) and ||grad*||. A training step moves K to "
                "K - h d, with d the normalised one-step gradient and h = 1e-3. What happens to the solved loss "
                "0.5||x*(K) - y||^2? Use only the printed numbers.")
    choices = {
        "a": "It goes down by about h ||grad_one-step||, as the one-step gradient itself predicts.",
        "b": "It goes down by about h ||grad*|| |c|.",
        "c": "It goes up by about h ||grad*|| |c|.",
        "d": "It does not change to first order in h.",
    }
    answer = "c"
    feedback = {
        "a": "that prediction treats the one-step gradient as the derivative of the solved loss; it is not. To first "
             "order the change is -h <grad*, d>. What is its sign for the printed c?",
        "b": "to first order the change is -h <grad*, d> = -h ||grad*|| c. Look at the sign of the printed cosine.",
        "d": "the first-order change -h ||grad*|| c vanishes only for c = 0; the printed cosine is small but not 0.",
    }
    hint_text = ("Write the change of the solved loss to first order in h with the true gradient grad*: "
                 "loss(K - h d) - loss(K) = -h <grad*, d> + O(h^2), and <grad*, d> = ||grad*|| c for a unit d.")
    explanation = ("To first order the change is -h <grad*, d> = -h ||grad*|| c, and the printed cosine is negative, "
                   "so the solved loss goes up, by about h ||grad*|| |c|: a step 'downhill' along the one-step gradient "
                   "climbs. The one-step gradient need not be a descent direction (docs/theory.md section 5D): the "
                   "descent guarantee of Jacobian-free backpropagation needs a contraction with a conditioning "
                   "assumption, and one CP step is only firmly nonexpansive in a weighted metric. The one-step "
                   "gradient itself would predict a decrease by h ||grad_one-step||. Verify it by finite differences "
                   "of the solved loss, each side solved accurately.")
