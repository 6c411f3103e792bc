"""Exercises for the notebooks, with checkers that say what is wrong (the last stage after widgets).

Each exercise is a small object in the style of Kaggle's learntools, with ``check(answer)``
(a :class:`CheckResult` whose ``outcome`` is an :class:`Outcome`: ``NOT_ATTEMPTED``,
``INCORRECT`` with a message that points at the mistake without printing the answer, or
``CORRECT``), ``hint()`` and ``solution()``. The framework is in ``_framework``; each
notebook's exercises are in the module of its section of docs/theory.md:

- ``chambolle_pock`` (notebook 01, section 2): ``prox_l1``, ``prox_conjugate_l1``, ``cp_step``;
- ``backprop`` (notebook 02, section 3): ``backward_step``, ``gradient_sum``;
- ``asymptotics`` (notebooks 03a-03b, section 4): ``delta_P_limit``, the questions
  :class:`PredictLo` and :class:`WhyDeltaPZero`;
- ``fixed_point`` (notebook 04, section 5): ``one_step_gradient``, :class:`ImplicitAdjoint`;
- ``one_step_bias`` (notebook 04, section 5D): the questions :class:`PredictStepRatio` and
  :class:`PredictDescent`;
- ``learning`` (notebook 05, section 6): ``ball_projection``, :class:`BallProjectionVJP`.

The lower-case names are ready-made instances of the classes (``prox_l1 = ProxL1()``).

Examples
--------
>>> import numpy as np
>>> from cpteach import exercises
>>> exercises.prox_l1.check(None).outcome is exercises.Outcome.NOT_ATTEMPTED
True
>>> exercises.cp_step.check(lambda *args: None).outcome is exercises.Outcome.INCORRECT
True
"""
from ._framework import CheckerError, CheckResult, Exercise, Message, MultipleChoice, Outcome, reveal
from .asymptotics import DeltaPLimit, PredictLo, WhyDeltaPZero, delta_P_limit
from .backprop import BackwardStep, GradientSum, backward_step, gradient_sum
from .chambolle_pock import CPStep, ProxConjugateL1, ProxL1, cp_step, prox_conjugate_l1, prox_l1
from .fixed_point import ImplicitAdjoint, OneStepGradient, one_step_gradient
from .learning import BallProjection, BallProjectionVJP, ball_projection
from .one_step_bias import PredictDescent, PredictStepRatio

__all__ = ["Outcome", "CheckResult", "Message", "Exercise", "MultipleChoice", "CheckerError", "reveal",
           "ProxL1", "ProxConjugateL1", "CPStep", "BackwardStep", "GradientSum", "DeltaPLimit",
           "PredictLo", "WhyDeltaPZero", "OneStepGradient", "ImplicitAdjoint", "PredictStepRatio",
           "PredictDescent",
           "BallProjection", "BallProjectionVJP",
           "prox_l1", "prox_conjugate_l1", "cp_step", "backward_step", "gradient_sum", "delta_P_limit",
           "one_step_gradient", "ball_projection"]
