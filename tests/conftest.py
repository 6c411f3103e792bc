
from cpteach import operators, prox

PROX_FUNCTIONS = {
    "L1": lambda: prox.L1(weight=0.3),
    "SquaredL2": lambda: prox.SquaredL2(weight=0.8),
    "L2Ball": lambda: prox.L2Ball(radius=0.9),
    "Box": lambda: prox.Box(-0.5, 0.4),
    "Zero": lambda: prox.Zero(),
}


def small_operator(kind, rng):
    """A small Matrix (4 x 5) or FilterBank (2 filters 3x3 on 5x4) with random entries."""
    if kind == "Matrix":
        return operators.Matrix(rng.standard_normal((4, 5)))
    return operators.FilterBank(rng.standard_normal((2, 3, 3)) / 3, (5, 4))

