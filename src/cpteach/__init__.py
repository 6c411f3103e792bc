"""cpteach: learning the operator K of min_u F(Ku) + G(u - x) by unrolling Chambolle-Pock.

See docs/theory.md for the numbered equations that the code cites.
"""
from . import operators, prox
from .backprop import BackpropResult, backprop
from .chambolle_pock import CPTrace, Solution, chambolle_pock, default_steps, solve
from .fixed_point import (FixedPointGradient, GradientComparison, ImplicitGradient, compare_gradients,
                          fixed_point_closed_form, fixed_point_gradient, implicit_gradient)
from . import asymptotics

__version__ = "0.1.0"
__all__ = ["operators", "prox", "chambolle_pock", "CPTrace", "Solution", "default_steps", "solve",
           "backprop", "BackpropResult",
           "fixed_point_gradient", "fixed_point_closed_form", "implicit_gradient", "compare_gradients",
           "FixedPointGradient", "ImplicitGradient", "GradientComparison", "asymptotics"]
