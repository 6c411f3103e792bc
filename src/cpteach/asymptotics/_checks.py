"""Argument checks shared by the analyses of section 4 (docs/theory.md): traces, 0/1 masks (4.1)."""
from __future__ import annotations

import numpy as np

from ..chambolle_pock import CPTrace

def _check_trace(trace):
    if not isinstance(trace, CPTrace):
        raise TypeError(f"expected the CPTrace returned by cpteach.chambolle_pock, got {type(trace).__name__}")
    _check_masked(trace.F_conj, trace.G)


def _check_masked(F_conj, G):
    """Assumption (4.1) needs 0/1 prox derivatives of F* and G."""
    for name, f in (("F*", F_conj), ("G", G)):
        if not f.has_mask:
            raise TypeError(
                f"the prox derivative of {name} = {f!r} is not a 0/1 mask, so assumption (4.1) does not apply; "
                "use functions with has_mask (L1, Box, Zero, and conjugates such as L1().conjugate())")


def _norm(v):
    return float(np.sqrt(np.sum(np.square(v))))
