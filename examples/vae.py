"""A variational autoencoder on the 8x8 digits, trained with the reparameterisation trick.

The encoder maps an image x to a Gaussian q(z | x) = N(mu(x), diag(exp(log_var(x)))) over a
2-D latent z; the decoder maps z to Bernoulli logits for the 64 pixels. Training minimises
the negative evidence lower bound

    -ELBO(x) = E_q[-log p(x | z)] + KL(q(z | x) || N(0, I)),

with one draw z = mu + exp(log_var / 2) * eps per image, eps = fg.random.normal(key, ...):
the draw is a differentiable function of the encoder's outputs, so ``fg.grad`` reaches the
encoder through it. Every step splits a fresh key; the step (draws, loss, gradient and the
``fg.optim.adam`` update) is one ``fg.jit`` function. At the end a grid of decoded latent
points is written to a PNG.

    python examples/vae.py                      # 40 epochs
    python examples/vae.py --epochs 2 --out vae.png
"""

from __future__ import annotations

import argparse

import numpy as np

import funcgrad as fg
import funcgrad.numpy as fnp

LATENT = 2


def init_params(key, hidden: int):
    init = fg.nn.initializers.glorot_normal()
    sizes = {"enc": (64, hidden), "enc_mu": (hidden, LATENT), "enc_logvar": (hidden, LATENT),
             "dec": (LATENT, hidden), "dec_out": (hidden, 64)}
    keys = fg.random.split(key, len(sizes))
    params = {}
    for k, (name, shape) in zip(keys, sizes.items()):
        params[name] = {"w": init(k, shape), "b": np.zeros(shape[1])}
    return params


def dense(layer, x):
    return x @ layer["w"] + layer["b"]


def encode(params, x):
    h = fnp.tanh(dense(params["enc"], x))
    return dense(params["enc_mu"], h), dense(params["enc_logvar"], h)


def decode(params, z):
    return dense(params["dec_out"], fnp.tanh(dense(params["dec"], z)))  # pixel logits


def negative_elbo(params, key, x):
    """The mean over the batch of -ELBO, with one reparameterised draw per image."""
    mu, log_var = encode(params, x)
    eps = fg.random.normal(key, mu.shape)
    z = mu + fnp.exp(0.5 * log_var) * eps
    reconstruction = fnp.sum(fg.nn.sigmoid_binary_cross_entropy(decode(params, z), x), axis=1)
    kl = -0.5 * fnp.sum(1 + log_var - mu * mu - fnp.exp(log_var), axis=1)
    return fnp.mean(reconstruction + kl)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=40)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--lr", type=float, default=3e-3)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default="vae_digits.png", help="decoded latent grid (PNG)")
    args = parser.parse_args(argv)

    from sklearn.datasets import load_digits
    images = load_digits().data / 16.0   # intensities in [0, 1], read as probabilities
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(images))
    test, train = images[order[:300]], images[order[300:]]

    key = fg.random.key(args.seed)
    key, init_key = fg.random.split(key)
    params = init_params(init_key, args.hidden)
    opt = fg.optim.adam(args.lr)
    state = opt.init(params)

    @fg.jit
    def step(params, state, key, x):
        value, grads = fg.value_and_grad(negative_elbo)(params, key, x)
        updates, state = opt.update(grads, state, params)
        return fg.optim.apply_updates(params, updates), state, value

    evaluate = fg.jit(negative_elbo)
    key, sub = fg.random.split(key)
    print(f"test -ELBO before training: {float(evaluate(params, sub, test)):.2f} nats per image")
    for epoch in range(args.epochs):
        key, shuffle_key = fg.random.split(key)
        perm = np.asarray(fg.random.permutation(shuffle_key, len(train)))
        losses = []
        for i in range(0, len(train), args.batch_size):
            key, sub = fg.random.split(key)
            params, state, value = step(params, state, sub, train[perm[i:i + args.batch_size]])
            losses.append(float(value))
        if (epoch + 1) % max(1, args.epochs // 8) == 0 or epoch == args.epochs - 1:
            print(f"epoch {epoch + 1}: training -ELBO {np.mean(losses):.2f}")
    key, sub = fg.random.split(key)
    print(f"test -ELBO after training: {float(evaluate(params, sub, test)):.2f} nats per image")
    write_grid(args.out, params)
    print(f"decoded latent grid written to {args.out}")


def write_grid(path, params, n=10):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from scipy.stats import norm
    grid = norm.ppf(np.linspace(0.05, 0.95, n))   # latent points spread over the prior
    z = np.array([[a, b] for b in grid[::-1] for a in grid])
    pixels = 1 / (1 + np.exp(-decode(params, z)))  # plain NumPy: no tracing needed
    cells = np.pad(pixels.reshape(n, n, 8, 8), ((0, 0), (0, 0), (1, 1), (1, 1)))  # a margin
    canvas = cells.transpose(0, 2, 1, 3).reshape(10 * n, 10 * n)
    fig, ax = plt.subplots(figsize=(5, 5))
    ax.imshow(canvas, cmap="gray_r")
    ax.set_axis_off()
    ax.set_title("VAE: digits decoded across the 2-D latent space")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


if __name__ == "__main__":
    main()
