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


def euler(k, x0, dt, steps):
    x = x0
    for _ in range(steps):
        x = x + dt * (np.sin(x) - k * x)
    return x


def decay(x, w, steps):  # a parameter carried by the loop
    for _ in range(steps):
        x = x * w + np.sin(x)
    return x


def drift(x0, v, w):  # the loop adds a scalar made from arrays
    x = x0
    for _ in range(3):
        x = x + np.sum(v * w) * x
    return x


def stale(x0, w):  # x * w is overwritten unread: it may be an array while the output is 0-d
    x = x0
    for _ in range(2):
        a = x * 2.0
        x = x * w
        x = a + 0.0
    return x


def read_before(x0, w):  # the output broadcasts x before the loop makes it w's shape
    x = np.sin(x0)
    y = x * 3.0
    for _ in range(2):
        x = x * w
    return y * np.sum(x)


def summed_carry(x0, w):  # x starts as an array; the loop makes it a scalar without broadcasting it
    x = x0
    for _ in range(2):
        x = np.sum(x * w) + 1.0
    return x
