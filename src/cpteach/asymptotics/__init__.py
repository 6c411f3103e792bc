"""Asymptotics of the backpropagated gradients as L -> infinity (docs/theory.md, section 4).

One module per subsection of section 4; every public name is also here, as
``cpteach.asymptotics.<name>``:

- (4.1) :mod:`.settled_masks`: :func:`masks`, the 0/1 prox derivatives M_P^l, M_D^l per iteration and
  the first l_o from which they no longer change; :func:`solution_masks`, the masks at the fixed point;
  :func:`unsettled_entries`, whether the masks at l = L still differ from those (so l_o > L);
- (4.1), "When do the masks settle?" :mod:`.nondegeneracy`: :func:`kink_margin`, how far the fixed
  point sits from a kink of the masks;
- 4A, (4.2)-(4.3) :mod:`.kernel`: :func:`kernel_residuals` (fixed l, growing L) and
  :func:`iteration_residuals` (every l of one run), the masked and unmasked residuals (4.2);
  :func:`projection_limit`, the limit (4.3) of delta_P^l;
- 4B-4C, (4.4)-(4.6) :mod:`.sums`: :func:`partial_sums` and :func:`limit_gradient`, the sums (4.4) and
  the formula (4.5); :func:`summability` and :func:`predicted_slope`, whether (4.4) converges, and if
  not the slope (4.6) against the observed growth of the unrolled gradient;
- 4C :mod:`.tv_l1`: :func:`plateaus`, the plateaus of a 1-D solution on which the limit (4.3) lives;
- 4D :mod:`.masked`: :func:`masked_operator`, the matrix of K_M = M_D K M_P;
- 4D, (4.8)-(4.9) :mod:`.contraction`: :func:`contraction_rate`, the rate of the backward pass;
- 4D, (4.10)-(4.11) :mod:`.closed_form`: :func:`closed_form_limit`, the limit of a unique solution.
"""
from .closed_form import ClosedFormLimit, closed_form_limit
from .contraction import ContractionRate, contraction_rate
from .kernel import (IterationResiduals, KernelResiduals, ScaledResiduals, iteration_residuals, kernel_residuals,
                     projection_limit)
from .masked import masked_operator
from .nondegeneracy import kink_margin
from .settled_masks import Masks, masks, solution_masks, unsettled_entries
from .sums import Summability, limit_gradient, partial_sums, predicted_slope, summability
from .tv_l1 import Plateaus, plateaus

__all__ = ["Masks", "masks", "KernelResiduals", "kernel_residuals", "projection_limit", "partial_sums",
           "limit_gradient", "Summability", "summability", "solution_masks", "unsettled_entries", "masked_operator",
           "ContractionRate",
           "contraction_rate", "ClosedFormLimit", "closed_form_limit", "kink_margin", "Plateaus", "plateaus",
           "IterationResiduals", "iteration_residuals", "predicted_slope", "ScaledResiduals"]
