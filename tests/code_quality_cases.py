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


def rosenbrock(x):
    return np.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def neighbours(x):
    return -np.sum(x[2:] * x[:-2] + np.sin(x[1:-1])) + np.sum(x[:] ** 2)


def broadcast_sum(x, w):
    return np.sum(x * w)


def mean_of_logs(x):
    return np.sum(np.log(x)) / np.size(x)


def masks(x):
    return np.sum(np.maximum(x, 0.0) ** 2) + np.sum(np.abs(x)) + np.sum(np.where(x > 0.5, x, 0.0))
