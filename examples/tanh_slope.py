"""The slope of tanh (the tutorial's second example), and a plot of tanh with its slope.

Run:  python examples/tanh_slope.py        (prints 0.419974341614026)
With matplotlib installed it also saves tanh_slope.png next to this file.
See the generated code:  srcgrad show examples/tanh_slope.py:tanh
"""

from pathlib import Path

import numpy as np

import srcgrad


def tanh(x):
    y = np.exp(-2.0 * x)
    return (1.0 - y) / (1.0 + y)


def plot(png):
    import matplotlib

    matplotlib.use("Agg")  # draw to a file, open no window
    import matplotlib.pyplot as plt

    x = np.linspace(-7, 7, 200)
    fig, ax = plt.subplots()
    ax.plot(x, tanh(x), label="tanh(x)")
    ax.plot(x, srcgrad.elementwise_grad(tanh)(x), label="slope of tanh")
    ax.legend()
    fig.savefig(png)
    plt.close(fig)
    print("saved", png)


def main():
    grad_tanh = srcgrad.grad(tanh)
    print(grad_tanh(1.0))
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        print("matplotlib is not installed: no plot")
        return
    plot(Path(__file__).with_name("tanh_slope.png"))


if __name__ == "__main__":
    main()
