"""cpteach.asymptotics.tv_l1 (docs/theory.md, 4C: the plateaus of TV-L1 and the limit on the free plateaus)."""
import numpy as np
import pytest

from cpteach import asymptotics, solve


def test_plateaus_of_a_hand_made_signal():
    x_star = np.array([0.0, 0.0, 0.0, 1.0, 1.0, 2.0, 2.0, 2.0, 2.0, -1.0])
    x = np.array([0.5, -0.5, 0.1, 1.0, 3.0, 2.5, 1.0, 2.2, 1.9, 0.0])   # pixel 3 equals its data
    p = asymptotics.plateaus(x_star + 1e-9, x + 1e-9)                     # below tol: still plateaus
    assert p.bounds == ((0, 3), (3, 5), (5, 9), (9, 10))
    assert p.free.tolist() == [True, False, True, True]
    assert p.free_pixels.tolist() == [True] * 3 + [False] * 2 + [True] * 5
    assert asymptotics.plateaus(np.ones(4), np.ones(4)).bounds == ((0, 4),)
    with pytest.raises(ValueError, match="1-D"):
        asymptotics.plateaus(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="shape"):
        asymptotics.plateaus(x_star, x[:-1])


def test_tv_l1_limit_lives_on_the_free_plateaus(tv_l1):
    """Section 4C: the limit (4.3) is supported on the plateaus with no pixel equal to the data, where it is
    the plateau's mean of e*; one kernel dimension per free plateau."""
    K, F, G, x, y, tau, sigma, _ = tv_l1
    sol = solve(K, F, G, x, tau=tau, sigma=sigma, tol=1e-10, max_iter=100000)
    pl = asymptotics.plateaus(sol.x_star, x)
    M_P, M_D = asymptotics.solution_masks(K, F, G, x, sol.x_star, sol.xi_star, tau=tau, sigma=sigma)
    limit = asymptotics.projection_limit(K, M_P, M_D, sol.x_star - y)
    expected = np.concatenate([np.full(b - a, np.mean((sol.x_star - y)[a:b]) if free else 0.0)
                               for (a, b), free in zip(pl.bounds, pl.free)])
    np.testing.assert_allclose(limit, expected, atol=1e-10)
    B = asymptotics.masked_operator(K, M_P, M_D)
    assert B.shape[1] - np.linalg.matrix_rank(B) == pl.free.sum() > 0
