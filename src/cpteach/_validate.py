"""Argument checks shared by every public function (docs/theory.md, section 2 for the step-size condition).

Each check raises at the public boundary: ``TypeError`` for a wrong type, ``ValueError``
for a wrong value, with a message that names the argument, what was expected, what
arrived and how to fix it. Checks return the converted value (a float, an int, a float
array), so a caller writes ``tau = positive("tau", tau)``.
"""
from __future__ import annotations

import numbers

import numpy as np


def _named(name, meaning):
    return f"{name} ({meaning})" if meaning else name


def _fix(name, example):
    return f"; e.g. {name}={example}" if example is not None else ""


def real(name, value, meaning="", example=None):
    """A finite real number (bool is refused), as float.

    ``meaning`` is said after the name ("noise_level (the radius factor s of (6.1))"),
    ``example`` is offered as the fix ("e.g. noise_level=0.09").
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{_named(name, meaning)} must be a real number, got {type(value).__name__} {value!r}"
                        f"{_fix(name, example)}")
    if not np.isfinite(value):
        raise ValueError(f"{_named(name, meaning)} must be finite, got {value}{_fix(name, example)}")
    return float(value)


def positive(name, value, meaning="", example=None):
    """A positive finite real number, as float."""
    value = real(name, value, meaning, example)
    if value <= 0:
        raise ValueError(f"{_named(name, meaning)} must be positive, got {value}"
                         f"{_fix(name, 1.0 if example is None else example)}")
    return value


def nonnegative(name, value, meaning="", example=None):
    """A finite real number >= 0, as float."""
    value = real(name, value, meaning, example)
    if value < 0:
        raise ValueError(f"{_named(name, meaning)} must be >= 0, got {value}{_fix(name, example)}")
    return value


def integer(name, value, low=0, meaning="", example=None):
    """An integer >= low (bool is refused), as int."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{_named(name, meaning)} must be an integer, got {type(value).__name__} {value!r}"
                        f"{_fix(name, example)}")
    if value < low:
        raise ValueError(f"{_named(name, meaning)} must be an integer >= {low}, got {value}{_fix(name, example)}")
    return int(value)


def step_product(product):
    """tau*sigma*||K||^2 as text: 3 significant digits, more where those would print 1 for a product that is not 1
    (1.004 is not 1: it fails the condition).

    >>> step_product(0.98), step_product(1.004), step_product(0.99995), step_product(1.0)
    ('0.98', '1.004', '0.99995', '1')
    """
    for digits in range(3, 17):
        text = f"{product:.{digits}g}"
        if product == 1 or text != "1":
            return text
    return text


def steps(K, tau, sigma, theta):
    """tau, sigma > 0 with tau*sigma*||K||^2 < 1 (2.0) and theta in [0, 1]; returns floats."""
    tau, sigma, theta = real("tau", tau), real("sigma", sigma), real("theta", theta)
    if tau <= 0 or sigma <= 0:
        raise ValueError(f"step sizes must be positive, got tau={tau}, sigma={sigma}")
    product = tau * sigma * K.norm() ** 2
    if product >= 1:
        good = 0.99 / K.norm()
        raise ValueError(
            f"tau*sigma*||K||^2 = {step_product(product)} >= 1 (||K|| = {K.norm():.4g}), so the iteration may diverge; "
            f"lower tau or sigma (e.g. tau = sigma = 0.99/||K|| = {good:.4g})")
    if not 0 <= theta <= 1:
        raise ValueError(f"theta must lie in [0, 1] (theta = 1 is the classical choice), got {theta}")
    return tau, sigma, theta


def finite_array(name, value, shape=None):
    """A real, finite float array; with ``shape``, of exactly that shape."""
    a = np.asarray(value)
    if not np.issubdtype(a.dtype, np.number) or np.iscomplexobj(a):
        raise TypeError(f"{name} must be a real numeric array, got dtype {a.dtype}")
    if shape is not None and a.shape != tuple(shape):
        raise ValueError(f"{name} has shape {a.shape} but must have shape {tuple(shape)}; they must match")
    a = a.astype(float)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf; clean it (e.g. np.nan_to_num) before passing it")
    return a


def primal(K, x, value, name):
    """A primal point (x0, x_star, ...) of exactly the data's shape, as float array."""
    return finite_array(name, value, x.shape)


def dual(K, x, value, name):
    """A dual point (xi0, xi_star, ...) of shape batch + K.shape_out, as float array."""
    batch = x.shape[: x.ndim - len(K.shape_in)]
    return finite_array(name, value, batch + tuple(K.shape_out))


def ground_truth(y, x):
    """The ground truth y: finite, with the shape of the data x."""
    return finite_array("y", y, x.shape)
