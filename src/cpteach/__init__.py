"""cpteach: learning the operator K of min_u F(Ku) + G(u - x) by unrolling Chambolle-Pock.

Data flows one way through the layers of :data:`LAYERS`, listed here bottom first (a module imports
only from earlier layers; tests/test_layers.py checks it). Each module's first docstring line names the
section of docs/theory.md it implements, and the code cites that file's equation numbers.

1. ``operators`` (K, with its dense ``matrix()``), ``prox`` (F, G, their conjugates and derivatives),
   ``images`` (test images, noise, PSNR), ``plotting``, ``symbolic`` (sympy derivations), ``shipped``
   (the result files of the example)
2. ``step``: the CP step (2.1)-(2.5), written once and public as ``cp_step``; the gap (2.7)  (section 2)
3. ``chambolle_pock``: the forward trace and ``solve``                                    (section 2)
4. ``problems``: the teaching problems (K, F, G, x, y) with a lazily computed solution   (section 1);
   ``backprop``: the backward step (3.1)-(3.3) and the gradient sum (3.4)               (section 3)
5. ``asymptotics``: one module per subsection 4.1-4D: masks, kernel residuals, sums, the limit
6. ``fixed_point``: one-step and implicit gradients as truncations of one series (5A-5B), the
   theorem's conditions (5C, read off asymptotics' masks), the comparison and the cost (5C-5E)
7. ``denoising``, 8. ``learning``, 9. ``reproduce``: the numerical example             (section 6)
10. ``widgets`` (the dashboards and the presenter view), ``exercises`` (the notebooks' checkers)
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
