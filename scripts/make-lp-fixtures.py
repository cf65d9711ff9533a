#!/usr/bin/env python3
"""Generates test/fixtures/lp-fixtures.json: small Net-Trim problems with their epsilon = 0
optimum computed by an independent solver (HiGHS through scipy.optimize.linprog).

Run once by a developer (python3 with numpy and scipy >= 1.9); tests only read the JSON.

    python3 scripts/make-lp-fixtures.py

Programs (samples are rows here, as in the library: input is [P, N], output is [P, M];
the bias column holds u = the largest RMS input feature, sqrt(max_j sum_p input[p, j]^2 / P),
so Xbar = [input | u 1] is P x (N+1) and Wbar = [W; b / u] is (N+1) x M: the bias is pruned like
any weight, in the units of the inputs, and the objective is ||W||_1 + ||b||_1 / u):

  relu:   min ||Wbar||_1  s.t.  (Xbar Wbar)_Omega = Y_Omega,  (Xbar Wbar)_{Omega^c} <= 0
          with Omega = {Y > 0} (V = 0, activeThreshold 0)
  linear: min ||Wbar||_1  s.t.  Xbar Wbar = Y

Both separate by neuron (column of Wbar). Each column is an LP in split variables
w = wp - wm, wp, wm >= 0, objective sum(wp) + sum(wm).

input and output are rounded to float32 BEFORE solving (the library holds them as Float32Array),
so the LP is solved on exactly the data the tests feed the engine. The outputs are planted:
Y = relu(Xbar W0) (or Xbar W0) with a sparse random W0, so every LP is feasible.
"""

import json
import os
import sys

import numpy as np
import scipy
from scipy.optimize import linprog

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "test", "fixtures", "lp-fixtures.json")


def f32(a):
    return np.asarray(a, dtype=np.float64).astype(np.float32).astype(np.float64)


def sparse_weights(rng, rows, cols, density):
    w = rng.standard_normal((rows, cols))
    keep = rng.random((rows, cols)) < density
    return w * keep


def solve_column(xbar, y, active, kind, method="highs-ds"):
    """min ||w||_1 for one neuron; returns (w, objective)."""
    P, NB = xbar.shape
    c = np.ones(2 * NB)
    A = np.hstack([xbar, -xbar])  # A @ [wp; wm] = xbar @ w
    if kind == "linear":
        eq, ub = np.ones(P, dtype=bool), np.zeros(P, dtype=bool)
    else:
        eq, ub = active, ~active
    res = linprog(
        c,
        A_ub=A[ub] if ub.any() else None,
        b_ub=np.zeros(int(ub.sum())) if ub.any() else None,
        A_eq=A[eq] if eq.any() else None,
        b_eq=y[eq] if eq.any() else None,
        bounds=(0, None),
        method=method,
        options={"primal_feasibility_tolerance": 1e-10, "dual_feasibility_tolerance": 1e-10},
    )
    if res.status != 0:
        raise RuntimeError(f"linprog failed: {res.message}")
    w = res.x[:NB] - res.x[NB:]
    return w, float(res.fun)


def check_column(xbar, y, active, kind, w):
    z = xbar @ w
    if kind == "linear":
        return float(np.max(np.abs(z - y))) if len(y) else 0.0
    fit = float(np.max(np.abs(z[active] - y[active]))) if active.any() else 0.0
    leak = float(np.max(z[~active])) if (~active).any() else 0.0
    return max(fit, leak, 0.0)


def make_problem(name, kind, P, N, M, seed, density=0.3, zero_columns=(), dead_neurons=()):
    rng = np.random.default_rng(seed)
    inp = rng.standard_normal((P, N))
    if kind == "relu":
        # Layer inputs of a hidden ReLU layer are usually nonnegative, with some exact zeros.
        inp = np.maximum(inp + 0.3, 0.0)
    for c in zero_columns:
        inp[:, c] = 0.0
    inp = f32(inp)
    xbar = np.hstack([inp, np.ones((P, 1))])
    w0 = sparse_weights(rng, N + 1, M, density)
    if kind == "relu":
        # Centre each neuron's pre-activation so that roughly half the samples are active.
        pre = xbar[:, :N] @ w0[:N]
        w0[N] = -np.median(pre, axis=0)
    for m in dead_neurons:
        w0[N, m] = -1e3  # never active: the output column is all zero
    pre = xbar @ w0
    out = f32(np.maximum(pre, 0.0) if kind == "relu" else pre)
    # The program's bias column: u = the largest RMS input feature (as the library defines it).
    u = float(np.sqrt(np.max(np.sum(inp * inp, axis=0)) / P))
    xbar = np.hstack([inp, u * np.ones((P, 1))])
    planted = float(np.abs(w0[:N]).sum() + np.abs(w0[N]).sum() / u)

    weights = np.zeros((N + 1, M))
    total = 0.0
    worst = 0.0
    for m in range(M):
        y = out[:, m]
        active = y > 0
        w, obj = solve_column(xbar, y, active, kind)
        # Independent check of the optimal value with HiGHS' interior-point method.
        _, obj_ipm = solve_column(xbar, y, active, kind, method="highs-ipm")
        assert abs(obj - obj_ipm) <= 1e-7 * max(1.0, obj), (name, m, obj, obj_ipm)
        weights[:, m] = w
        total += obj
        worst = max(worst, check_column(xbar, y, active, kind, w))
    # Cross-check the objective against the returned weights and the planted ones.
    l1 = float(np.abs(weights).sum())
    assert abs(l1 - total) <= 1e-7 * max(1.0, total), (l1, total)
    assert total <= planted * (1 + 1e-9) + 1e-12, "LP optimum above the planted weights"
    scale = max(1.0, float(np.abs(out).max()))
    assert worst <= 1e-7 * scale, f"{name}: LP solution violates the constraints by {worst}"
    print(
        f"{name}: kind={kind} P={P} N={N} M={M} |Omega|={int((out > 0).sum())}/{P * M} "
        f"biasUnit={u:.6f} optimalL1={total:.6f} (planted {planted:.6f}) nnz={int((np.abs(weights) > 1e-9).sum())} "
        f"max violation={worst:.2e}",
        file=sys.stderr,
    )
    return {
        "name": name,
        "kind": kind,
        "P": P,
        "N": N,
        "M": M,
        "input": [float(v) for v in inp.reshape(-1)],
        "output": [float(v) for v in out.reshape(-1)],
        "biasUnit": u,
        "optimalL1": total,
        "optimalWeights": [float(v) for v in weights[:N].reshape(-1)],
        "optimalBias": [float(v) for v in u * weights[N]],
        "maxConstraintViolation": worst,
        "seed": seed,
        "solver": "HiGHS via scipy.optimize.linprog",
        "scipy": scipy.__version__,
    }


def main():
    problems = [
        make_problem("relu-30x20x4", "relu", 30, 20, 4, seed=1),
        make_problem("relu-40x25x3", "relu", 40, 25, 3, seed=2),
        make_problem("linear-15x30x3", "linear", 15, 30, 3, seed=3, density=0.4),
        make_problem("relu-zero-inputs-30x20x3", "relu", 30, 20, 3, seed=4, zero_columns=(0, 7, 13)),
        make_problem("relu-dead-neuron-30x20x4", "relu", 30, 20, 4, seed=5, dead_neurons=(2,)),
    ]
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        # json writes floats with repr (shortest round-trip form).
        json.dump(problems, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {os.path.normpath(OUT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
