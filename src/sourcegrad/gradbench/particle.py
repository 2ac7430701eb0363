"""particle: a charged particle starts at (0, 8) with velocity (0.75, 0) and moves in the field
of two fixed unit charges at (10, 10 - w) and (10, 0); naive Euler steps (dt = 0.1) run until
its next step would cross the x axis, and the crossing point follows by linear interpolation.
The control ``w`` that brings the crossing to the origin minimizes its x coordinate squared, by
gradient descent (descent.py).

Nested differentiation twice over: each Euler step needs the force, minus the gradient of the
potential in the position (the inner derivative), and the descent needs the derivative of the
whole simulation in ``w`` (the outer one), which differentiates through the inner gradient and
the data-dependent ``while`` loop. The four variants choose forward (f) or reverse (r) mode for
the outer and the inner derivative, in that order."""

import numpy as np

from sourcegrad import grad, jvp
from sourcegrad.gradbench import Function, descent


def potential(x, w):
    to_moving = np.linalg.norm(x - np.array([10.0, 10.0 - w]))
    to_fixed = np.linalg.norm(x - np.array([10.0, 0.0]))
    return 1.0 / to_moving + 1.0 / to_fixed


d_potential = grad(potential, wrt="x")
j_potential = jvp(potential, wrt="x")


def force(x, w, forward):
    if forward:  # one tangent per coordinate of the position
        _, along_x = j_potential(x, w, tangents=np.array([1.0, 0.0]))
        _, along_y = j_potential(x, w, tangents=np.array([0.0, 1.0]))
        return -np.array([along_x, along_y])
    return -d_potential(x, w)


def miss(w, forward):
    """The x coordinate, squared, where the particle's path crosses the x axis."""
    x = np.array([0.0, 8.0])
    velocity = np.array([0.75, 0.0])
    dt = 0.1
    while x[1] + dt * velocity[1] > 0:
        acceleration = force(x, w, forward)
        x = x + dt * velocity
        velocity = velocity + dt * acceleration
    t = -x[1] / velocity[1]
    return (x[0] + t * velocity[0]) ** 2


d_miss = grad(miss, wrt="w")
j_miss = jvp(miss, wrt="w")


def _start(data):
    return (float(data["w"]),)


def solver(outer, inner):
    forward = inner == "f"

    def objective(w):
        return float(d_miss.primal(w, forward))

    def derivative(w):
        if outer == "f":
            return j_miss(w, forward, tangents=1.0)[1]
        return d_miss(w, forward)

    def argmin(w):
        return descent.argmin(objective, derivative, w)

    return argmin


FUNCTIONS = {
    variant: Function(_start, solver(variant[0], variant[1]), float) for variant in ("ff", "fr", "rf", "rr")
}
