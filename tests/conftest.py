import pytest

from cpteach import asymptotics, chambolle_pock, operators, problems, prox

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


# ---- problems shared by the tests of cpteach.asymptotics (one module per subsection of theory section 4) ----

@pytest.fixture(scope="session")
def tv_l1():
    """1-D TV-L1 (n = 48), min ||D u||_1 + 0.5 ||u - x||_1, with K the dense difference matrix (so it has
    parameters): its linearised backward map has a non-trivial fixed space."""
    p = problems.tv_l1_denoising_1d(n=48, beta=1.0, alpha=0.5)
    trace = chambolle_pock(p.K, p.F, p.G, p.x, tau=p.tau, sigma=p.sigma, L=4000)
    return p.K, p.F, p.G, p.x, p.y, p.tau, p.sigma, trace


@pytest.fixture(scope="session")
def l1_l1():
    """Notebooks 03a/03b's summable L1-L1 problem (random 20 x 10 K, F = 0.2||.||_1, G = 0.3||.||_1)."""
    return problems.l1_l1_problem()


def solution_masks_of(p):
    """The masks (4.1) at the solution of a problem of cpteach.problems."""
    return asymptotics.solution_masks(p.K, p.F, p.G, p.x, p.x_star, p.xi_star, tau=p.tau, sigma=p.sigma)
