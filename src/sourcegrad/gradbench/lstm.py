"""lstm: the loss of a multi-layer LSTM predicting each next character of a sequence (ADBench).

main_params holds, per layer, a weight row and a bias row of four gates (forget, input, output,
change); extra_params the input weight, output weight and output bias; state a hidden and a cell
row per layer.
"""

import numpy as np

from sourcegrad import grad
from sourcegrad.gradbench import Function, to_list


def lstm_objective(main_params, extra_params, state, sequence):
    def sigmoid(z):
        return 1 / (1 + np.exp(-z))

    n_layers = main_params.shape[0] // 2
    b = sequence.shape[1]
    hidden = state[0::2].copy()
    cell = state[1::2].copy()
    total = 0.0
    for t in range(sequence.shape[0] - 1):
        layer_input = sequence[t] * extra_params[0]
        for i in range(n_layers):
            weight = main_params[2 * i]
            bias = main_params[2 * i + 1]
            forget = sigmoid(layer_input * weight[:b] + bias[:b])
            ingate = sigmoid(hidden[i] * weight[b : 2 * b] + bias[b : 2 * b])
            outgate = sigmoid(layer_input * weight[2 * b : 3 * b] + bias[2 * b : 3 * b])
            change = np.tanh(hidden[i] * weight[3 * b :] + bias[3 * b :])
            cell[i] = cell[i] * forget + ingate * change
            hidden[i] = outgate * np.tanh(cell[i])
            layer_input = hidden[i]
        prediction = layer_input * extra_params[1] + extra_params[2]
        normalized = prediction - np.log(np.sum(np.exp(prediction)) + 2)
        total = total + np.sum(sequence[t + 1] * normalized)
    return -total / ((sequence.shape[0] - 1) * b)


d_lstm = grad(lstm_objective, wrt=("main_params", "extra_params"))


def _arguments(data):
    return tuple(
        np.asarray(data[key], dtype=np.float64)
        for key in ("main_params", "extra_params", "state", "sequence")
    )


def _jacobian_json(grads):
    main, extra = grads
    return to_list(np.concatenate([np.ravel(main), np.ravel(extra)]))


FUNCTIONS = {
    "objective": Function(_arguments, d_lstm.primal, float),
    "jacobian": Function(_arguments, d_lstm, _jacobian_json),
}
