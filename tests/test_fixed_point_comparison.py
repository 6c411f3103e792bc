"""The comparison harness (cpteach.fixed_point.comparison, docs/theory.md, 5C-5E): unrolled gradients of
prefixes against separate runs, the implicit gradient as the limit of the unrolled ones, bad input."""
import numpy as np
import pytest

from cpteach import backprop, chambolle_pock, compare_gradients, default_steps, prox
from cpteach.fixed_point import cosine_and_error, unrolled_against
from test_fixed_point import random_problem


def test_implicit_gradient_is_the_limit_of_the_unrolled_gradient():
    """Cosine to the implicit gradient rises with L and passes 0.99; the one-step gradient does not."""
    K, x, y, _ = random_problem(3)
    F, G = prox.L1(1.0), prox.L2Ball(0.3 * np.sqrt(x.size))
    tau, sigma = default_steps(K)
    Ls = [1, 3, 10, 30, 100, 300, 1000, 3000]
    c = compare_gradients(K, F, G, x, y, Ls, tau=tau, sigma=sigma, tol=1e-12, max_iter=200000)
    assert np.all(np.diff(c.unrolled_cosine) >= -1e-9), c.unrolled_cosine
    assert c.unrolled_cosine[0] < 0.9 and c.unrolled_cosine[-1] > 0.99
    assert c.unrolled_rel_error[-1] < 1e-6
    # honesty: the one-step gradient is a different vector (measured cosine about 0.5 here)
    assert 0 < c.one_step_cosine < 0.95 and c.one_step_rel_error > 0.3
    assert c.implicit_time > 0 and c.implicit_peak_bytes > 0 and np.all(c.unrolled_peak_bytes > 0)
    # memory of the unrolled gradient grows with L
    assert c.unrolled_peak_bytes[-1] > 10 * c.unrolled_peak_bytes[2]


def test_unrolled_against_prefixes_equals_separate_runs():
    """Prefixes of one trace give the unrolled gradients of separate runs of length L (3.4); cosine and
    error computed here by hand against an arbitrary reference."""
    K, x, y, rng = random_problem(7, k=12, n=8)
    F, G = prox.L1(0.5), prox.SquaredL2()
    tau, sigma = default_steps(K)
    reference = rng.standard_normal(K.params.shape)
    trace = chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=40)
    cosine, rel_error = unrolled_against(trace, y, [1, 7, 40], reference)
    for i, L in enumerate((1, 7, 40)):
        g = backprop(chambolle_pock(K, F, G, x, tau=tau, sigma=sigma, L=L), y).grad_K
        assert cosine[i] == pytest.approx(np.sum(g * reference) / (np.linalg.norm(g) * np.linalg.norm(reference)))
        assert rel_error[i] == pytest.approx(np.linalg.norm(g - reference) / np.linalg.norm(reference))
    with pytest.raises(ValueError, match="Ls"):
        unrolled_against(trace, y, [0, 41], reference)
    with pytest.raises(ValueError, match="reference has shape"):
        unrolled_against(trace, y, [1], reference[:2])
    with pytest.raises(TypeError, match="CPTrace"):
        unrolled_against(object(), y, [1], reference)


def test_cosine_and_error_by_hand():
    g, ref = np.array([[3.0, 0.0]]), np.array([[1.0, 1.0]])
    cosine, error = cosine_and_error(g, ref)
    assert cosine == pytest.approx(3 / (3 * np.sqrt(2))) and error == pytest.approx(np.sqrt(5) / np.sqrt(2))
    assert cosine_and_error(ref, ref) == pytest.approx((1.0, 0.0))


def test_compare_gradients_rejects_bad_iteration_counts():
    K, x, y, _ = random_problem(6)
    tau, sigma = default_steps(K)
    with pytest.raises(ValueError, match="Ls"):
        compare_gradients(K, prox.L1(), prox.SquaredL2(), x, y, [0, 5], tau=tau, sigma=sigma)
