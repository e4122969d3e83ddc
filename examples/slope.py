"""The slope of a straight line: the tutorial's first example, with srcgrad instead of autograd.

Run:  python examples/slope.py             (prints 0.5)
See the generated code:  srcgrad show examples/slope.py:oneline
"""

import numpy as np  # noqa: F401  (the tutorial's import; oneline needs no numpy call)

import srcgrad


def oneline(x):
    y = x / 2
    return y


def main():
    grad_oneline = srcgrad.grad(oneline)
    print(grad_oneline(3.0))


if __name__ == "__main__":
    main()
