"""Functions whose generated code tests/test_code_quality.py reads."""

import numpy as np


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def repeated(x):
    return np.sum(np.sin(x) * np.sin(x) + np.cos(x))


def loop_with_branch(x):
    total = 0.0
    for i in range(3):
        if i % 2 == 0:
            total = total + np.sin(x[i])
        else:
            total = total * x[i]
    return total
