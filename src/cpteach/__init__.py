"""cpteach: learning the operator K of min_u F(Ku) + G(u - x) by unrolling Chambolle-Pock.

Data flows one way through the stages below; each module's first docstring line names the
section of docs/theory.md it implements, and the code cites that file's equation numbers.

1. ``problems``: teaching problems (K, F, G, x, y) with a lazily computed solution   (section 1)
   on top of ``operators`` (K, with its dense ``matrix()``) and ``prox`` (F, G, their
   conjugates and derivatives); ``images`` (test images, noise, PSNR)
2. ``step``: the CP step (2.1)-(2.5), written once and public as ``cp_step``; the gap (2.7);
   ``chambolle_pock``: the forward trace and ``solve``                            (section 2)
3. ``backprop``: the backward step (3.1)-(3.3) and the gradient sum (3.4), written once  (section 3)
4. ``asymptotics`` (one module per subsection 4.1-4D), then ``fixed_point`` (gradients 5A-5B, the
   theorem's conditions 5C, read off asymptotics' masks, and the comparison and cost 5C-5E): masks, kernel residuals, partial sums and the limit; one-step and
   implicit gradients as truncations of one series                             (sections 4, 5)
5. ``denoising`` / ``learning`` / ``reproduce`` (with ``shipped``, its result files): the numerical
   example                                                                      (section 6)
6. ``plotting``, ``symbolic``: figures; sympy derivations
7. ``widgets``: the dashboards of the notebooks and the presenter view
8. ``exercises``: checkers for the notebooks' exercises

Imports point down :data:`LAYERS` (a module imports only from earlier layers; tests/test_layers.py
checks it): problems use only operators, prox, images and chambolle_pock.
"""
from . import operators, prox
from .backprop import BackpropResult, backprop
from .chambolle_pock import (CPState, CPTrace, Solution, Step, chambolle_pock, cp_step, default_steps, primal_dual_gap,
                             primal_objective, solve)
from .fixed_point import (FixedPointGradient, GradientComparison, ImplicitGradient, compare_gradients,
                          fixed_point_closed_form, fixed_point_gradient, implicit_gradient)
from . import asymptotics

__version__ = "0.1.0"

LAYERS = (("_validate",), ("operators", "prox", "images", "plotting", "symbolic", "shipped"), ("step",),
          ("chambolle_pock",), ("problems", "backprop"), ("asymptotics",), ("fixed_point",), ("denoising",), ("learning",), ("reproduce",),
          ("exercises", "widgets"))
"""The stages of the package, bottom first: a module imports only from the stages of earlier layers."""
__all__ = ["operators", "prox", "chambolle_pock", "CPTrace", "Solution", "default_steps", "solve",
           "cp_step", "CPState", "Step", "primal_objective", "primal_dual_gap",
           "backprop", "BackpropResult",
           "fixed_point_gradient", "fixed_point_closed_form", "implicit_gradient", "compare_gradients",
           "FixedPointGradient", "ImplicitGradient", "GradientComparison", "asymptotics", "LAYERS"]
