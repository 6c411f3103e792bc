"""The argument checks of cpteach._validate: each names the argument, what arrived and the fix, TypeError for
a wrong type and ValueError for a wrong value, and returns the converted value."""
import numpy as np
import pytest

from cpteach import _validate, operators


def test_numbers_are_converted_and_bad_ones_named():
    assert _validate.real("tau", np.float32(0.5)) == 0.5 and type(_validate.real("tau", 1)) is float
    with pytest.raises(TypeError, match=r"tau must be a real number, got bool True"):
        _validate.real("tau", True)
    with pytest.raises(ValueError, match=r"noise_level \(the radius\) must be positive, got -1.0; e.g. noise_level=0.09"):
        _validate.positive("noise_level", -1, "the radius", example=0.09)
    with pytest.raises(ValueError, match="must be finite"):
        _validate.nonnegative("tol", np.inf)
    assert _validate.integer("L", np.int64(3)) == 3
    with pytest.raises(ValueError, match=r"L must be an integer >= 1, got 0"):
        _validate.integer("L", 0, 1)
    with pytest.raises(TypeError, match="L must be an integer"):
        _validate.integer("L", 2.0)


def test_arrays_and_step_sizes():
    a = _validate.finite_array("x", [1, 2], (2,))
    assert a.dtype == float and a.tolist() == [1.0, 2.0]
    with pytest.raises(ValueError, match=r"x has shape \(2,\) but must have shape \(3,\)"):
        _validate.finite_array("x", [1, 2], (3,))
    with pytest.raises(ValueError, match="NaN or inf"):
        _validate.finite_array("x", [1, np.nan])
    with pytest.raises(TypeError, match="real numeric array"):
        _validate.finite_array("x", ["a"])
    K = operators.Matrix(2 * np.eye(2))                      # ||K|| = 2
    assert _validate.steps(K, 0.2, 0.2, 1) == (0.2, 0.2, 1.0)
    with pytest.raises(ValueError, match=r"tau\*sigma\*\|\|K\|\|\^2 = 1 >= 1.*tau = sigma = 0.99/\|\|K\|\| = 0.495"):
        _validate.steps(K, 0.5, 0.5, 1.0)
    with pytest.raises(ValueError, match=r"\|\|K\|\|\^2 = 1.004 >= 1"):        # not '1 >= 1' (lecturer review)
        _validate.steps(K, 0.502, 0.5, 1.0)
    with pytest.raises(ValueError, match=r"theta must lie in \[0, 1\]"):
        _validate.steps(K, 0.2, 0.2, 1.5)
