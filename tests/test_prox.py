"""Proximal maps: closed forms, optimality, Moreau's identity, vector-Jacobian products."""
import numpy as np
import pytest

from cpteach import prox

FUNCTIONS = {
    "l1": prox.L1(weight=0.7),
    "sql2": prox.SquaredL2(weight=1.3),
    "elastic": prox.ElasticL1(alpha=0.6, eps=0.8),
    "ball": prox.L2Ball(radius=1.5),
    "box": prox.Box(-0.4, 0.9),
    "zero": prox.Zero(),
}
ALL = {**FUNCTIONS, **{name + "*": prox.Conjugate(f) for name, f in FUNCTIONS.items()}}  # Moreau's (2.6) for all


def test_closed_forms_of_conjugate_proxes():
    """Moreau's identity against independently written closed forms."""
    rng = np.random.default_rng(0)
    v, s = 3 * rng.standard_normal(20), 0.8
    np.testing.assert_allclose(prox.Conjugate(prox.L1()).prox(v, s), np.clip(v, -1, 1), atol=1e-15)
    np.testing.assert_allclose(prox.Conjugate(prox.L1(0.7)).prox(v, s), np.clip(v, -0.7, 0.7), atol=1e-15)
    # L1's conjugate is returned in closed form, the box; it must agree with Moreau's identity
    box = prox.L1(0.7).conjugate()
    np.testing.assert_allclose(box.prox(v, s), prox.Conjugate(prox.L1(0.7)).prox(v, s), atol=1e-15)
    np.testing.assert_array_equal(box.mask(v, s), prox.Conjugate(prox.L1(0.7)).mask(v, s))
    np.testing.assert_allclose(prox.SquaredL2(1.3).conjugate().prox(v, s), v / (1 + s / 1.3), atol=1e-14)
    r = 1.5  # conjugate of the ball indicator is r||.||_2: its prox is block soft thresholding
    np.testing.assert_allclose(prox.L2Ball(r).conjugate().prox(v, s),
                               v * max(0.0, 1 - s * r / np.linalg.norm(v)), atol=1e-14)
    np.testing.assert_allclose(prox.Zero().conjugate().prox(v, s), 0 * v, atol=1e-15)


@pytest.mark.parametrize("name", list(ALL))
def test_prox_minimises_its_objective(name):
    """p = prox_{s f}(v) minimises 0.5||u - v||^2 + s f(u): no random perturbation does better."""
    f = ALL[name]
    rng = np.random.default_rng(1)
    v, s = 2 * rng.standard_normal(6), 0.6
    p = f.prox(v, s)
    best = 0.5 * np.sum((p - v) ** 2) + s * f(p)
    assert np.isfinite(best)
    for _ in range(200):
        u = p + 0.05 * rng.standard_normal(6)
        if name == "ball":
            u = prox.L2Ball(1.5).prox(u, s)  # stay feasible
        assert 0.5 * np.sum((u - v) ** 2) + s * f(u) >= best - 1e-12


@pytest.mark.parametrize("name", list(ALL))
def test_prox_vjp_against_finite_differences(name):
    f = ALL[name]
    rng = np.random.default_rng(2)
    for trial in range(5):
        v = 2 * rng.standard_normal(7)
        s = rng.uniform(0.2, 2.0)
        w, d = rng.standard_normal(7), rng.standard_normal(7)
        eps = 1e-6
        fd = (f.prox(v + eps * d, s) - f.prox(v - eps * d, s)) / (2 * eps)
        assert np.sum(w * fd) == pytest.approx(np.sum(f.prox_vjp(v, s, w) * d), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", [n for n, f in ALL.items() if f.has_mask])
def test_mask_is_the_derivative(name):
    f = ALL[name]
    rng = np.random.default_rng(3)
    v, s, w = 2 * rng.standard_normal(50), 0.7, rng.standard_normal(50)
    m = f.mask(v, s)
    assert m.dtype == bool
    np.testing.assert_array_equal(f.prox_vjp(v, s, w), w * m)
    eps = 1e-7
    fd = (f.prox(v + eps, s) - f.prox(v - eps, s)) / (2 * eps)
    np.testing.assert_allclose(fd, m.astype(float), atol=1e-6)


def test_ball_is_per_sample_with_axis():
    rng = np.random.default_rng(4)
    v = 3 * rng.standard_normal((3, 4, 4))
    p = prox.L2Ball(1.0, axis=(-2, -1)).prox(v, 1.0)
    np.testing.assert_allclose(np.linalg.norm(p.reshape(3, -1), axis=1), 1.0)
    for i in range(3):
        np.testing.assert_allclose(p[i], prox.L2Ball(1.0).prox(v[i], 1.0))


def test_mask_refused_for_non_binary_derivatives():
    with pytest.raises(TypeError, match="not a 0/1 mask"):
        prox.L2Ball(1.0).mask(np.ones(3), 1.0)
    with pytest.raises(TypeError, match="not a 0/1 mask"):
        prox.ElasticL1(1.0, 0.1).mask(np.ones(3), 1.0)    # M_P / (1 + step eps) is not 0/1


def test_bad_parameters():
    with pytest.raises(ValueError, match="positive"):
        prox.L1(weight=-1)
    with pytest.raises(TypeError):
        prox.L2Ball(radius="1")
    with pytest.raises(ValueError, match="lower < upper"):
        prox.Box(1, 0)
    with pytest.raises(TypeError, match="lower must be a real number"):
        prox.Box("0", 1)
    with pytest.raises(ValueError, match="weight must be positive"):
        prox.SquaredL2(weight=0.0)
    with pytest.raises(ValueError, match="eps must be positive"):
        prox.ElasticL1(alpha=1.0, eps=0.0)


def _stack(name, rng, rows=4, size=7):
    """Arguments v[0..rows-1] for the stacked derivative, with the ball's rows inside and outside the ball."""
    v = 2 * rng.standard_normal((rows, size))
    if name.startswith("ball"):
        v[::2] *= 0.1           # ||v[l]|| < 1.5 on even rows, > 1.5 (projected) on odd rows
    return v


@pytest.mark.parametrize("name", list(ALL))
def test_stacked_derivative_is_the_derivative_of_each_row(name):
    """prox_derivative of a stack, applied to w at row l, against prox_vjp at v[l] and against central
    differences of prox at v[l] (an independent oracle; random v lie away from the kinks)."""
    f = ALL[name]
    rng = np.random.default_rng(5)
    s = 0.8
    v, w = _stack(name, rng), rng.standard_normal((4, 7))
    Gamma = f.prox_derivative(v, s)
    assert isinstance(Gamma, prox.ProxDerivative)
    eps = 1e-6
    for l in range(4):
        np.testing.assert_allclose(Gamma.vjp(w[l], l), f.prox_vjp(v[l], s, w[l]), rtol=1e-12, atol=1e-15)
        for d in rng.standard_normal((3, 7)):
            fd = (f.prox(v[l] + eps * d, s) - f.prox(v[l] - eps * d, s)) / (2 * eps)
            assert np.sum(w[l] * fd) == pytest.approx(np.sum(Gamma.vjp(w[l], l) * d), rel=1e-6, abs=1e-9)


@pytest.mark.parametrize("name", list(ALL))
def test_diagonal_of_entrywise_derivatives(name):
    """Entrywise proxes (all but the ball and its conjugate) have a diagonal derivative: against the central
    differences of prox along each entry (the stack moved as a whole: entrywise, so rows do not interact),
    and their prox of a stack is the stack of proxes; the others have none."""
    f = ALL[name]
    rng = np.random.default_rng(6)
    s, v = 0.8, _stack(name, rng)
    Gamma = f.prox_derivative(v, s)
    assert f.entrywise == (not name.startswith("ball"))
    if not f.entrywise:
        assert Gamma.diagonal is None
        with pytest.raises(TypeError, match="not a 0/1 mask"):
            f.mask(v, s)
        return
    eps = 1e-7
    fd = (f.prox(v + eps, s) - f.prox(v - eps, s)) / (2 * eps)
    assert Gamma.diagonal.shape == v.shape
    np.testing.assert_allclose(Gamma.diagonal, fd, atol=1e-6)
    np.testing.assert_array_equal(f.prox(v, s), np.stack([f.prox(row, s) for row in v]))
    assert (Gamma.diagonal.dtype == bool) == f.has_mask
    if f.has_mask:
        np.testing.assert_array_equal(f.mask(v, s), Gamma.diagonal)


def test_ball_derivative_of_a_stack_is_per_row():
    """A stack of arguments is not one argument: row l of the ball's stacked derivative projects v[l] alone."""
    rng = np.random.default_rng(7)
    ball = prox.L2Ball(1.5)
    v, w = 2 * rng.standard_normal((3, 5)), rng.standard_normal(5)
    Gamma = ball.prox_derivative(v, 1.0)
    for l in range(3):
        J = np.array([ball.prox_vjp(v[l], 1.0, e) for e in np.eye(5)])      # dense Jacobian of row l
        r = np.linalg.norm(v[l])
        assert r > 1.5
        closed = 1.5 / r * (np.eye(5) - np.outer(v[l], v[l]) / r**2)        # (6.2), v[l] outside the ball
        np.testing.assert_allclose(J, closed, atol=1e-14)
        np.testing.assert_allclose(Gamma.vjp(w, l), closed @ w, atol=1e-14)


def test_a_function_with_prox_vjp_only_gets_a_rowwise_derivative():
    """A user's ProxFunction that implements prox_vjp (not prox_derivative) works in the stacked form too;
    one that implements neither is refused with a clear message instead of recursing."""
    class Scaled(prox.ProxFunction):                 # f = 0.5 ||v||^2 by hand: prox v / (1 + step)
        def prox(self, v, step):
            return v / (1.0 + step)

        def prox_vjp(self, v, step, w):
            return w / (1.0 + step)

    v, w = np.ones((3, 4)), np.arange(4.0)
    Gamma = Scaled().prox_derivative(v, 1.0)
    assert Gamma.diagonal is None
    np.testing.assert_array_equal(Gamma.vjp(w, 2), w / 2)
    np.testing.assert_array_equal(Gamma.complement().vjp(w, 2), w / 2)       # I - J of Moreau's (2.6)

    class Nothing(prox.ProxFunction):
        pass

    with pytest.raises(NotImplementedError, match="neither prox_derivative nor prox_vjp"):
        Nothing().prox_vjp(v, 1.0, w)
