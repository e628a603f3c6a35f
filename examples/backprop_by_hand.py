"""The backpropagation lecture, step by step, each step checked by funcgrad.

1. Chain rule, case 1: z = h(g(x)), so dz/dx = dz/dy * dy/dx.
2. Chain rule, case 2: z = k(g(s), h(s)), so dz/ds = dz/dx * dx/ds + dz/dy * dy/ds.
3. A tiny network (2 inputs, 2 hidden sigmoid neurons, 2 sigmoid outputs), by hand:
   - forward pass: dz/dw for every weight is the input x connected by that weight;
   - backward pass: dC/dz for every neuron, from the output layer back;
   - dC/dw = dz/dw * dC/dz, which is what ``fg.grad`` returns too.
4. Backpropagation as a program: the adjoint IR that ``fg.grad`` builds, and the Python
   source that ``fg.jit`` hands to Numba.
5. Gradient descent on L(theta) = sum over n of C^n(theta): theta <- theta - eta grad L.

Run it and read along with the lecture: ``python examples/backprop_by_hand.py``.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp


def heading(title: str):
    print(f"\n{'=' * 78}\n{title}\n{'=' * 78}")


def check(label: str, by_hand, by_funcgrad):
    """Print both numbers and stop if they differ."""
    ok = np.allclose(by_hand, by_funcgrad, rtol=1e-12, atol=1e-15)
    print(f"  {label:<46} by hand {float(by_hand):+.6f}   fg.grad {float(by_funcgrad):+.6f}"
          f"   {'equal' if ok else 'DIFFERENT'}")
    if not ok:
        raise SystemExit(f"{label}: {by_hand} by hand, {by_funcgrad} from funcgrad")


# ---------------------------------------------------------------------------------------
# 1 and 2. The chain rule


def chain_rule():
    heading("Chain rule, case 1: y = g(x), z = h(y)   =>   dz/dx = dz/dy * dy/dx")

    def g(x):
        return fnp.sin(x)

    def h(y):
        return y ** 2

    x = 0.7
    y = math.sin(x)
    dz_dy, dy_dx = 2 * y, math.cos(x)
    print(f"  x = {x}: y = sin(x) = {y:.6f}, z = y^2;  dz/dy = 2y = {dz_dy:.6f}, "
          f"dy/dx = cos(x) = {dy_dx:.6f}")
    check("dz/dx = dz/dy * dy/dx", dz_dy * dy_dx, fg.grad(lambda x: h(g(x)))(x))

    heading("Chain rule, case 2: x = g(s), y = h(s), z = k(x, y)\n"
            "  =>   dz/ds = dz/dx * dx/ds + dz/dy * dy/ds")

    def g2(s):
        return s ** 2

    def h2(s):
        return fnp.sin(s)

    def k(x, y):
        return x * y

    def z_of_s(s):
        return k(g2(s), h2(s))

    s = 0.5
    x, y = s ** 2, math.sin(s)
    dz_dx, dx_ds, dz_dy, dy_ds = y, 2 * s, x, math.cos(s)
    print(f"  s = {s}: x = s^2 = {x}, y = sin(s) = {y:.6f}, z = x * y")
    print(f"  dz/dx = y = {dz_dx:.6f}, dx/ds = 2s = {dx_ds}, dz/dy = x = {dz_dy}, "
          f"dy/ds = cos(s) = {dy_ds:.6f}")
    check("dz/ds, the sum over both paths", dz_dx * dx_ds + dz_dy * dy_ds, fg.grad(z_of_s)(s))
    print("\n  The adjoint program fg.grad builds: each path's product, then their sum (add):")
    print(indent(fg.make_ir(fg.grad(z_of_s))(s)))


def indent(text, by="    "):
    return "\n".join(by + line for line in str(text).splitlines())


# ---------------------------------------------------------------------------------------
# 3. A tiny network, by hand


class Params(NamedTuple):
    """W1[i, j] is the weight from input i to hidden neuron j; W2[j, k] from hidden j to
    output k (a NamedTuple is a pytree: fg.grad returns the gradient as a Params too)."""
    W1: np.ndarray
    b1: np.ndarray
    W2: np.ndarray
    b2: np.ndarray


sigmoid = fg.nn.sigmoid  # 1 / (1 + exp(-z)), the primitive "logistic" in the IR


def forward(p: Params, x):
    """The hidden neurons' inputs z and outputs a = sigma(z), then the output neurons'
    inputs z_out (the lecture's z' and z'') and outputs y."""
    z = x @ p.W1 + p.b1
    a = sigmoid(z)
    z_out = a @ p.W2 + p.b2
    y = sigmoid(z_out)
    return z, a, z_out, y


def cost(p: Params, x, target):
    """C = 1/2 sum_k (y_k - target_k)^2 for one example."""
    y = forward(p, x)[3]
    return 0.5 * fnp.sum((y - target) ** 2)


def tiny_network():
    params = Params(W1=np.array([[1.0, -1.0], [-2.0, 1.0]]), b1=np.array([1.0, 0.0]),
                    W2=np.array([[2.0, -1.0], [-2.0, -1.0]]), b2=np.array([0.0, 0.0]))
    x = np.array([1.0, -1.0])
    target = np.array([1.0, 0.0])
    z, a, z_out, y = forward(params, x)

    heading("Tiny network: inputs x1, x2 -> hidden z1, z2 (sigmoid) -> outputs z'1, z'2 "
            "(sigmoid)\n  cost C = 1/2 * sum (y - target)^2")
    print(f"  x = {x},  target = {target}")
    print(f"  hidden: z = x W1 + b1 = {z},  a = sigma(z) = {np.round(a, 6)}")
    print(f"  output: z' = a W2 + b2 = {np.round(z_out, 6)},  y = sigma(z') = {np.round(y, 6)}")
    print(f"  C = {cost(params, x, target):.6f}")

    heading("Forward pass: dz/dw = the value of the input connected by the weight")
    # fg.grad of one neuron's z with respect to the weights: only the weights into that
    # neuron matter, and each derivative is the input that weight multiplies.
    for j in range(2):
        dz_dW1 = fg.grad(lambda W1: (x @ W1 + params.b1)[j])(params.W1)
        for i in range(2):
            check(f"dz{j + 1}/dw(x{i + 1} -> z{j + 1}) = x{i + 1}", x[i], dz_dW1[i, j])
    for k in range(2):
        dz_dW2 = fg.grad(lambda W2: (a @ W2 + params.b2)[k])(params.W2)
        for j in range(2):
            check(f"dz'{k + 1}/dw(a{j + 1} -> z'{k + 1}) = a{j + 1}", a[j], dz_dW2[j, k])

    heading("Backward pass: dC/dz for every neuron, output layer first")
    dsigma = lambda v: sigmoid(v) * (1 - sigmoid(v))  # noqa: E731  sigma'(z)
    # Case 1, output layer: dC/dz' = sigma'(z') * dC/dy, and dC/dy = y - target.
    dC_dz_out = dsigma(z_out) * (y - target)
    # Case 2, not the output layer: dC/dz = sigma'(z) * sum_k w(z -> z'_k) dC/dz'_k,
    # a "reversed neuron" whose inputs are the dC/dz' just computed.
    dC_dz = dsigma(z) * (params.W2 @ dC_dz_out)
    # funcgrad computes the same numbers: C as a function of z', and of z.
    rest_from_out = lambda zo: 0.5 * fnp.sum((sigmoid(zo) - target) ** 2)  # noqa: E731
    rest_from_hidden = lambda zh: rest_from_out(sigmoid(zh) @ params.W2 + params.b2)  # noqa
    grad_out, grad_hidden = fg.grad(rest_from_out)(z_out), fg.grad(rest_from_hidden)(z)
    for k in range(2):
        check(f"output layer: dC/dz'{k + 1} = sigma'(z'{k + 1}) (y{k + 1} - t{k + 1})",
              dC_dz_out[k], grad_out[k])
    for j in range(2):
        check(f"hidden: dC/dz{j + 1} = sigma'(z{j + 1}) sum_k w dC/dz'k", dC_dz[j],
              grad_hidden[j])

    heading("dC/dw = dz/dw * dC/dz  (input on the weight times dC/dz of its neuron)")
    by_hand = Params(W1=np.outer(x, dC_dz), b1=dC_dz, W2=np.outer(a, dC_dz_out), b2=dC_dz_out)
    grads = fg.grad(cost)(params, x, target)
    print(f"  fg.grad(cost) returns a {type(grads).__name__}, like the parameters")
    for i in range(2):
        for j in range(2):
            check(f"dC/dw(x{i + 1} -> z{j + 1}) = x{i + 1} * dC/dz{j + 1}", by_hand.W1[i, j],
                  grads.W1[i, j])
    for j in range(2):
        check(f"dC/db{j + 1} = 1 * dC/dz{j + 1}", by_hand.b1[j], grads.b1[j])
    for j in range(2):
        for k in range(2):
            check(f"dC/dw(a{j + 1} -> z'{k + 1}) = a{j + 1} * dC/dz'{k + 1}",
                  by_hand.W2[j, k], grads.W2[j, k])
    for k in range(2):
        check(f"dC/db'{k + 1} = 1 * dC/dz'{k + 1}", by_hand.b2[k], grads.b2[k])
    return params, x, target


# ---------------------------------------------------------------------------------------
# 4. Backpropagation as a program


def as_a_program(params, x, target):
    heading("The adjoint program: fg.make_ir(fg.grad(cost))(params, x, target)")
    print("The forward pass comes first, then the backward pass, last equation first.\n"
          "Find the lecture in it ('logistic' is sigma). In the backward half: 'sub' of the\n"
          "target is dC/dy = y - target; the muls by sigma(z') and by 1 - sigma(z') ('sub 1')\n"
          "make it dC/dz' (output layer); the dot_general with W2 sums w * dC/dz' over the\n"
          "output neurons, and the same sigma'(z) product makes that dC/dz (not the output\n"
          "layer); the mul after each reshape is input times dC/dz for all of a layer's\n"
          "weights at once (an outer product): dC/dw = dz/dw * dC/dz.\n")
    print(fg.make_ir(fg.grad(cost))(params, x, target))

    heading("The Python that Numba compiles: fg.jit(fg.grad(cost)).lower(...).source")
    print("Both passes in one function; elementwise chains fuse into single loops, and\n"
          "each block is labelled with the line of cost/forward it came from.\n")
    print(fg.jit(fg.grad(cost)).lower(params, x, target).source)
    compiled = fg.jit(fg.grad(cost))(params, x, target)
    same = all(np.allclose(c, g, rtol=1e-12) for c, g in
               zip(compiled, fg.grad(cost)(params, x, target)))
    print(f"fg.jit(fg.grad(cost)) gives the same gradient as fg.grad(cost): {same}")
    if not same:
        raise SystemExit("jit(grad) and grad disagree")


# ---------------------------------------------------------------------------------------
# 5. Gradient descent on the total loss


def gradient_descent(params):
    heading("Gradient descent: L(theta) = sum_n C^n(theta), theta <- theta - eta grad L")
    rng = np.random.default_rng(0)
    xs = rng.normal(size=(8, 2))
    targets = np.stack([xs[:, 0] > xs[:, 1], xs[:, 0] <= xs[:, 1]], axis=1).astype(float)

    def total_loss(p, xs, targets):
        return sum(cost(p, xs[n], targets[n]) for n in range(len(xs)))

    # dL/dw = sum_n dC^n/dw: the gradient of the sum is the sum of the gradients.
    per_example = [fg.grad(cost)(params, xs[n], targets[n]) for n in range(len(xs))]
    summed = fg.tree.map(lambda *gs: sum(gs), *per_example)
    total = fg.grad(total_loss)(params, xs, targets)
    check("dL/dw(x1 -> z1) = sum_n dC^n/dw(x1 -> z1)", summed.W1[0, 0], total.W1[0, 0])

    eta = 0.5
    value_and_grad = fg.jit(fg.value_and_grad(total_loss))
    for t in range(6):
        value, grads = value_and_grad(params, xs, targets)
        print(f"  theta^{t}: L = {value:.6f}")
        params = fg.tree.map(lambda p, g: p - eta * g, params, grads)


def main():
    chain_rule()
    params, x, target = tiny_network()
    as_a_program(params, x, target)
    gradient_descent(params)
    print("\nEvery number computed by hand matched fg.grad.")


if __name__ == "__main__":
    main()
