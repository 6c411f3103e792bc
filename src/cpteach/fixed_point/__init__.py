"""Three gradients as truncations of one series (docs/theory.md, section 5); every public name is also here,
as ``cpteach.fixed_point.<name>``:

- 5A-5B :mod:`.gradients`: :func:`fixed_point_gradient` (the one-step gradient (5.1)-(5.4), j = 0),
  :func:`fixed_point_closed_form` ((5.1)-(5.3) at a given point) and :func:`implicit_gradient` (the whole
  series, the adjoint equation (5.5));
- 5C :mod:`.conditions`: :func:`theorem_conditions`, the theorem's conditions at a solution in numbers;
- 5E :mod:`.cost`: :func:`series_cost`, Neumann terms against GMRES iterations for (5.5);
- 5C-5E :mod:`.comparison`: :func:`compare_gradients`, :func:`unrolled_against`, :func:`gradient_regimes`
  and :func:`cosine_and_error`: unrolled (3.4), one-step and implicit gradients against each other, with
  time and memory.
"""
from .comparison import (GradientComparison, GradientRegimes, compare_gradients, cosine_and_error, gradient_regimes,
                         unrolled_against)
from .conditions import TheoremConditions, theorem_conditions
from .cost import SeriesCost, series_cost
from .gradients import (ClosedFormTerms, FixedPointGradient, ImplicitGradient, fixed_point_closed_form,
                        fixed_point_gradient, implicit_gradient)

__all__ = ["fixed_point_gradient", "fixed_point_closed_form", "implicit_gradient", "compare_gradients", "cosine_and_error",
           "FixedPointGradient", "ClosedFormTerms", "ImplicitGradient", "GradientComparison", "unrolled_against",
           "GradientRegimes", "gradient_regimes", "TheoremConditions", "theorem_conditions", "SeriesCost",
           "series_cost"]
