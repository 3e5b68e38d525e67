"""Fit TransformerForecaster with each token type and look at what it attends to.

On the built-in planted-lag series (the target copies a random driver 12 steps back),
each token type is fitted and its last layer's attention is summarised:

- "variate": which feature each feature's token attends to (the target should look at
  the driver);
- "timestep": how far back the last step's token looks;
- "patch": which patches of the target's own window its last patch attends to. Patch
  tokens are channel-independent (as PatchTST): the target's tokens never see the driver,
  so on this data they cannot beat the mean forecast. That is the point of the
  comparison, not a bug: use "variate" or "timestep" tokens when one feature drives
  another.

Run: python examples/transformer_attention.py [--plot-dir DIR]   (22 s on 2 CPU cores)
With --plot-dir, a heatmap per token type is saved there as PNG (needs matplotlib).
"""

import argparse
from pathlib import Path

import numpy as np

from sklattn import TransformerForecaster, make_windows
from sklattn.datasets import make_lagged_series

LOOKBACK, HORIZON = 48, 4
COMMON = dict(d_model=16, n_heads=4, n_layers=2, d_ff=64, dropout=0.1, max_epochs=15,
              random_state=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--plot-dir", type=Path, default=None)
    args = parser.parse_args()

    series, lag = make_lagged_series(n_steps=3000, lag=12, random_state=0)
    names = list(series.columns)
    X, y = make_windows(series, LOOKBACK, HORIZON, targets="target")
    n_train = int(0.8 * len(X))
    X_train, y_train = X[:n_train], y[:n_train]
    X_test, y_test = X[n_train + LOOKBACK + HORIZON:], y[n_train + LOOKBACK + HORIZON:]
    naive = np.mean((y_test - y_test.mean()) ** 2)
    print(f"planted lag {lag}; features {names}; test MSE of the mean forecast {naive:.3f}\n")

    for tokens, extra in [("variate", {}), ("timestep", {}),
                          ("patch", dict(patch_len=8, stride=4))]:
        model = TransformerForecaster(tokens=tokens, **COMMON, **extra)  # y says: target 0
        model.fit(X_train, y_train)
        mse = np.mean((model.predict(X_test) - y_test) ** 2)
        weights = model.attention_weights(X_test)  # last layer, heads averaged
        print(f"tokens={tokens!r}: test MSE {mse:.3f}, {len(model.net_.history)} epochs, "
              f"weights {weights.shape}")
        if tokens == "variate":
            matrix = weights.mean(axis=0)  # (features, features)
            for name, row in zip(names, matrix):
                print(f"  {name:>13} attends to " + ", ".join(
                    f"{other} {w:.2f}" for other, w in zip(names, row)))
            picture, xlabel, ylabel = matrix, "key feature", "query feature"
        elif tokens == "timestep":
            from_last = weights[:, -1, :].mean(axis=0)[::-1]  # steps back 1..LOOKBACK
            top = np.argsort(from_last)[::-1][:3] + 1
            print(f"  last step's token looks most at steps back: {top.tolist()}")
            picture, xlabel, ylabel = weights.mean(axis=0), "key step", "query step"
        else:
            target_patches = weights[:, 0].mean(axis=0)  # feature 0 = target
            print("  target's last patch attends to patches (oldest first): "
                  + " ".join(f"{w:.2f}" for w in target_patches[-1]))
            picture, xlabel, ylabel = target_patches, "key patch", "query patch"
        print()
        if args.plot_dir is not None:
            import matplotlib

            matplotlib.use("Agg")
            import matplotlib.pyplot as plt

            args.plot_dir.mkdir(parents=True, exist_ok=True)
            fig, ax = plt.subplots(figsize=(5, 4))
            image = ax.imshow(picture, cmap="viridis")
            fig.colorbar(image, ax=ax, label="attention weight")
            ax.set(xlabel=xlabel, ylabel=ylabel, title=f"tokens={tokens!r}, last layer")
            if tokens == "variate":
                ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
                ax.set_yticks(range(len(names)), names)
            fig.savefig(args.plot_dir / f"attention_{tokens}.png", dpi=100,
                        bbox_inches="tight")
            plt.close(fig)


if __name__ == "__main__":
    main()
