"""Logistic regression trained by gradient descent (the tutorial's third example) with srcgrad.

Run:  python examples/logistic_regression.py
    Initial loss: 2.772588722239781
    Trained loss: 1.0672706757870163
See the generated code:  srcgrad show examples/logistic_regression.py:training_loss
"""

import numpy as np

import srcgrad

# Build a toy dataset.
inputs = np.array([[0.52, 1.12, 0.77], [0.88, -1.08, 0.15], [0.52, 0.06, -1.30], [0.74, -2.49, 1.39]])
targets = np.array([True, True, False, True])


def sigmoid(x):
    return 0.5 * (np.tanh(x / 2.0) + 1)


def logistic_predictions(weights, inputs):
    # Outputs probability of a label being true according to logistic model.
    return sigmoid(np.dot(inputs, weights))


def training_loss(weights):
    # Training loss is the negative log-likelihood of the training labels.
    preds = logistic_predictions(weights, inputs)
    label_probabilities = preds * targets + (1 - preds) * (1 - targets)
    return -np.sum(np.log(label_probabilities))


def main():
    # A function that returns gradients of the training loss, generated from its source.
    training_gradient_fun = srcgrad.grad(training_loss)

    # Optimize weights using gradient descent.
    weights = np.array([0.0, 0.0, 0.0])
    print("Initial loss:", training_loss(weights))
    for _ in range(100):
        weights -= training_gradient_fun(weights) * 0.01
    print("Trained loss:", training_loss(weights))


if __name__ == "__main__":
    main()
