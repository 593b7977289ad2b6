#!/usr/bin/env python3
"""Trains the digits classifier and writes it as a verinfer integer MLP file (docs/models.md).

    .toolchain/models-venv/bin/python models/digits/train.py      # after `script/setup.sh --models`

Steps, all deterministic (fixed seeds, single-threaded BLAS not required: L-BFGS on 1.4 k samples):
  1. load the 8x8 digits that ship inside scikit-learn (1,797 images, pixels 0..16, 10 classes);
  2. split 80/20, stratified, random_state=0 -> 1,437 train / 360 test images;
  3. train a float MLP 64 -> 32 -> 16 -> 10 (ReLU, L-BFGS) on pixels / 16, its L2 penalty chosen
     by 5-fold cross-validation on the training split only;
  4. quantize: int8 weights (one scale per layer), int32 biases, one requantization shift per layer,
     exactly the arithmetic of the Rust runtime (crates/mlp): acc = bias + sum(w * x) in
     int32, y = clamp(acc >> shift, -128, 127), ReLU on hidden layers; input = the raw pixels 0..16;
  5. write, next to this script:
       digits.vimlp     the model file (format v1),
       test-split.csv   the held-out images: label, then 64 pixels,
       reference.csv    this script's integer logits for each test image (the Rust runtime must
                        reproduce them bit for bit: crates/mlp/tests/digits.rs),
       metrics.json     float and int8 test accuracy as measured here;
  6. print float and int8 test accuracy.

Nothing at run or test time calls this script; its outputs are committed.
"""

import json
import math
import struct
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score, train_test_split
from sklearn.neural_network import MLPClassifier

HERE = Path(__file__).resolve().parent
HIDDEN = (32, 16)
SEED = 0
# L2 penalty candidates; the one with the best 5-fold cross-validated accuracy on the training split
# is used (the test split is never looked at to choose it).
ALPHAS = (1e-3, 1e-2, 1e-1, 1.0)

MAGIC = b"VIMLP\x00\r\n"
VERSION = 1
KIND_DENSE = 1
ACT_IDENTITY, ACT_RELU = 0, 1
INPUT_MIN, INPUT_MAX = 0, 16  # load_digits pixel range


def run_int(layers, x):
    """The Rust runtime's arithmetic on a batch of int inputs (rows of `x`). Returns int8 logits."""
    h = x.astype(np.int64)
    for i, (w, b, shift, act) in enumerate(layers):
        acc = h @ w.astype(np.int64).T + b.astype(np.int64)
        # The runtime accumulates in int32 with wrapping adds; the quantizer must never rely on a wrap.
        assert acc.min() >= -(2**31) and acc.max() < 2**31, f"layer {i}: int32 overflow"
        y = np.clip(acc >> shift, -128, 127)  # numpy >> on int64 is arithmetic, as Rust's on i32
        if act == ACT_RELU:
            y = np.maximum(y, 0)
        h = y
    return h.astype(np.int64)


def argmax_first(logits):
    """Class = first index of the highest logit (the runtime's tie rule; np.argmax agrees)."""
    return np.argmax(logits, axis=1)


def quantize(clf, x_train_raw):
    """Per-layer int8 weights, int32 biases and shifts for raw-pixel input (scale 1)."""
    layers = []
    in_scale = 1.0  # real value of one input unit: raw pixels
    h_real = x_train_raw.astype(np.float64)
    n = len(clf.coefs_)
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        w = w.T.astype(np.float64)  # [outputs][inputs]
        if i == 0:
            w = w / 16.0  # the float model saw pixels / 16; fold that into the first layer
        w_scale = 127.0 / np.abs(w).max()
        w_int = np.clip(np.round(w * w_scale), -127, 127).astype(np.int64)
        acc_scale = in_scale / w_scale  # real value of one accumulator unit
        # real outputs of this float layer on the training set, to size the shift
        out_real = h_real @ w.T + b
        if i < n - 1:
            out_real = np.maximum(out_real, 0)
        peak = np.abs(out_real).max()
        shift = max(0, math.ceil(math.log2(peak / (127.0 * acc_scale)))) if peak > 0 else 0
        # round-to-nearest requantization folded into the bias: (acc + 2^(s-1)) >> s
        half = (1 << (shift - 1)) if shift > 0 else 0
        b_int = np.round(b / acc_scale).astype(np.int64) + half
        act = ACT_RELU if i < n - 1 else ACT_IDENTITY
        layers.append((w_int, b_int, shift, act))
        in_scale = acc_scale * (2**shift)
        h_real = out_real
    return layers


def write_model(path, layers):
    out = bytearray(MAGIC)
    out += struct.pack(">HHIbb", VERSION, len(layers), layers[0][0].shape[1], INPUT_MIN, INPUT_MAX)
    for w, b, shift, act in layers:
        outputs, inputs = w.shape
        out += struct.pack(">BBBBII", KIND_DENSE, act, shift, 0, inputs, outputs)
        out += w.astype(np.int8).tobytes()
        out += b"".join(struct.pack(">i", int(v)) for v in b)
    path.write_bytes(bytes(out))


def main():
    data = load_digits()
    x, y = data.data.astype(np.int64), data.target.astype(np.int64)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x, y, test_size=0.2, random_state=SEED, stratify=y
    )
    def make(alpha):
        return MLPClassifier(
            hidden_layer_sizes=HIDDEN,
            activation="relu",
            solver="lbfgs",
            alpha=alpha,
            max_iter=4000,
            random_state=SEED,
        )

    cv = {a: float(cross_val_score(make(a), x_tr / 16.0, y_tr, cv=5).mean()) for a in ALPHAS}
    alpha = max(ALPHAS, key=lambda a: cv[a])
    print("5-fold CV accuracy on the training split: "
          + ", ".join(f"alpha={a:g}: {v:.4f}" for a, v in cv.items()) + f" -> alpha={alpha:g}")
    clf = make(alpha)
    clf.fit(x_tr / 16.0, y_tr)
    float_acc = float((clf.predict(x_te / 16.0) == y_te).mean())

    layers = quantize(clf, x_tr)
    logits = run_int(layers, x_te)
    int_pred = argmax_first(logits)
    int_acc = float((int_pred == y_te).mean())
    train_int_acc = float((argmax_first(run_int(layers, x_tr)) == y_tr).mean())

    write_model(HERE / "digits.vimlp", layers)
    with open(HERE / "test-split.csv", "w") as f:
        f.write("label," + ",".join(f"p{i}" for i in range(64)) + "\n")
        for img, label in zip(x_te, y_te):
            f.write(f"{label}," + ",".join(str(int(v)) for v in img) + "\n")
    with open(HERE / "reference.csv", "w") as f:
        f.write("index,class," + ",".join(f"logit{i}" for i in range(logits.shape[1])) + "\n")
        for i, (p, row) in enumerate(zip(int_pred, logits)):
            f.write(f"{i},{p}," + ",".join(str(int(v)) for v in row) + "\n")
    metrics = {
        "dataset": "sklearn.datasets.load_digits",
        "split": {"test_size": 0.2, "random_state": SEED, "stratify": True,
                  "train": int(len(y_tr)), "test": int(len(y_te))},
        "architecture": [64, *HIDDEN, 10],
        "alpha": alpha,
        "cv_accuracy": {f"{a:g}": v for a, v in cv.items()},
        "shifts": [int(l[2]) for l in layers],
        "float_test_accuracy": float_acc,
        "int8_test_accuracy": int_acc,
        "int8_train_accuracy": train_int_acc,
        "versions": {"python": sys.version.split()[0], "numpy": np.__version__,
                     "scikit-learn": __import__("sklearn").__version__},
    }
    (HERE / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    print(f"shifts {metrics['shifts']}")
    print(f"float test accuracy {float_acc:.4f} ({int(round(float_acc * len(y_te)))}/{len(y_te)})")
    print(f"int8  test accuracy {int_acc:.4f} ({int((int_pred == y_te).sum())}/{len(y_te)})")


if __name__ == "__main__":
    main()
