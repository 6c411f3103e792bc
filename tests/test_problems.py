"""The teaching problems: their solutions checked against the optimality conditions, written out
from the definitions (not through the library's prox maps), laziness, shapes and argument checks."""
import numpy as np
import pytest

from cpteach import images, problems


def _dense(K, n):
    return np.stack([np.ravel(K.apply(e)) for e in np.eye(n)], axis=1)   # columns K e_i


@pytest.mark.parametrize("dense", [False, True])
@pytest.mark.parametrize("beta", [0.1, 0.3])
def test_tv_solution_satisfies_the_optimality_conditions(dense, beta):
    # min_u w ||D u||_1 + 0.5 ||u - x||^2  <=>  x* - x = -D^T xi*, xi* in w * sign(D x*) (subdifferential)
    p = problems.tv_denoising_1d(n=30, beta=beta, seed=1, dense=dense)
    D = np.vstack([np.diff(np.eye(30), axis=0), np.zeros(30)])       # forward differences, Neumann: last row 0
    np.testing.assert_allclose(_dense(p.K, 30), D, atol=1e-15)
    x_star, xi_star = p.x_star, np.ravel(p.xi_star)
    np.testing.assert_allclose(x_star - p.x, -D.T @ xi_star, atol=1e-9)
    assert np.all(np.abs(xi_star) <= beta + 1e-9)
    jumps = D @ x_star
    support = np.abs(jumps) > 1e-7
    assert support.any() and not support.all()
    np.testing.assert_allclose(xi_star[support], beta * np.sign(jumps[support]), atol=1e-9)


def test_tv_solution_beats_perturbations():
    # a minimiser: no random perturbation lowers the objective
    p = problems.tv_denoising_1d(n=25, seed=2)
    D = np.diff(np.eye(25), axis=0)

    def objective(u):
        return 0.2 * np.abs(D @ u).sum() + 0.5 * np.sum((u - p.x) ** 2)

    rng = np.random.default_rng(0)
    best = objective(p.x_star)
    assert all(objective(p.x_star + 1e-3 * rng.standard_normal(25)) >= best - 1e-12 for _ in range(200))


def test_ball_solution_satisfies_the_optimality_conditions():
    # min ||K u||_1 s.t. ||u - x|| <= r: xi* in sign(K x*), -K^T xi* = mu (x* - x), mu >= 0, mu (||x* - x|| - r) = 0
    p = problems.ball_problem(k=12, n=8, seed=4)
    M, r = p.K.params, 0.3 * np.sqrt(8)
    x_star, xi_star = p.x_star, p.xi_star
    residual = x_star - p.x
    assert np.linalg.norm(residual) <= r + 1e-9
    assert np.all(np.abs(xi_star) <= 1 + 1e-9)
    Kx = M @ x_star
    support = np.abs(Kx) > 1e-7
    np.testing.assert_allclose(xi_star[support], np.sign(Kx[support]), atol=1e-7)
    g = -M.T @ xi_star
    mu = g @ residual / (residual @ residual)
    assert mu >= 0
    np.testing.assert_allclose(g, mu * residual, atol=1e-7)
    if mu > 1e-8:
        assert np.linalg.norm(residual) == pytest.approx(r, rel=1e-8)


def test_tv_l1_problem_structure():
    p = problems.tv_l1_denoising_1d(n=16, alpha=0.5, noise_std=0.3, seed=0)
    base = problems.tv_denoising_1d(n=16, noise_std=0.3, seed=0)
    np.testing.assert_array_equal(p.x, base.x)
    np.testing.assert_array_equal(p.K.params, np.diff(np.eye(16), axis=0))
    assert p.tau * p.sigma * p.K.norm() ** 2 < 1


def test_the_solution_is_computed_lazily_and_once(monkeypatch):
    calls = []
    original = problems.solve

    def counting_solve(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(problems, "solve", counting_solve)
    p = problems.tv_denoising_1d(n=20)
    q = problems.ball_problem(k=5, n=4)
    problems.tv_l1_denoising_1d(n=12)
    problems.poster_example(size=16)
    assert calls == []
    p.x_star, p.xi_star, p.solution
    assert calls == [1]
    assert q.solution is q.solution and calls == [1, 1]


def test_poster_example_shapes_radius_and_steps():
    p = problems.poster_example(size=32, seed=5, noise_std=0.1, noise_level=0.09)
    camera = images.load_image("camera")
    np.testing.assert_array_equal(p.y, camera[64:96, 64:96])
    assert p.x.shape == (32, 32) and p.K.params.shape == (48, 7, 7)
    assert p.K.norm() == pytest.approx(1.0, rel=1e-12)
    assert p.G.radius == pytest.approx(0.09 * 32)               # s * sqrt(#pixels)
    assert np.std(p.x - p.y) == pytest.approx(0.1, rel=0.1)
    assert p.tau * p.sigma * p.K.norm() ** 2 == pytest.approx(0.9801)
    assert p.sigma / p.tau == pytest.approx(100.0)
    np.testing.assert_array_equal(p.x, problems.poster_example(size=32, seed=5, noise_level=0.09).x)
    assert not np.array_equal(p.x, problems.poster_example(size=32, seed=6).x)


@pytest.mark.parametrize("build, kwargs, error, match", [
    (problems.tv_denoising_1d, {"n": 3}, ValueError, "n must be an integer >= 8"),
    (problems.tv_denoising_1d, {"n": 10.0}, TypeError, "n must be an integer"),
    (problems.tv_denoising_1d, {"beta": -1.0}, ValueError, "beta must be positive"),
    (problems.tv_denoising_1d, {"noise_std": -0.1}, ValueError, "noise_std must be >= 0"),
    (problems.tv_l1_denoising_1d, {"alpha": 0.0}, ValueError, "alpha must be"),
    (problems.ball_problem, {"radius": "big"}, TypeError, "radius must be a real number"),
    (problems.ball_problem, {"k": 0}, ValueError, "k must be an integer >= 1"),
    (problems.poster_example, {"size": 600}, ValueError, "exceeds the camera image"),
    (problems.poster_example, {"noise_level": 0.0}, ValueError, "noise_level must be positive"),
])
def test_builders_reject_bad_arguments(build, kwargs, error, match):
    with pytest.raises(error, match=match):
        build(**kwargs)


def test_problem_checks_its_steps():
    p = problems.tv_denoising_1d(n=10)
    with pytest.raises(ValueError, match="tau\\*sigma"):
        problems.Problem(p.K, p.F, p.G, p.x, p.y, "bad", 1.0, 1.0)


def test_presenter_problems_build():
    for name, build in problems.PRESENTER_PROBLEMS.items():
        p = build()
        assert isinstance(p, problems.Problem) and p.x.shape == p.y.shape


def test_with_steps_keeps_the_model_and_changes_only_the_steps():
    p = problems.ball_problem(k=6, n=4)
    q = p.with_steps(sigma_over_tau=100.0, theta=0.5)
    assert (q.K, q.F, q.G, q.x, q.y, q.name) == (p.K, p.F, p.G, p.x, p.y, p.name)
    assert q.sigma / q.tau == pytest.approx(100.0) and q.tau * q.sigma * q.K.norm() ** 2 == pytest.approx(0.99**2)
    assert q.theta == 0.5 and p.with_steps().theta == p.theta
    np.testing.assert_allclose(q.x_star, p.x_star, atol=1e-6)    # the same solution, reached with other steps
