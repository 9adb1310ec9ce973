"""Do the loan's levers move the probability? Halving the annuity, tripling the income and "what it would take"
on a sample of refused clients of a built warehouse and its scorer (figures quoted in docs/scorer.md).

    python scripts/measure_levers.py --warehouse data/warehouse.duckdb --model data/model [--sample 150]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import contextlib

import numpy as np

from models import Scorer
from models.counterfactual import what_it_would_take
from warehouse import Warehouse

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--warehouse", type=Path, default=Path("data/warehouse.duckdb"))
parser.add_argument("--model", type=Path, default=Path("data/model"))
parser.add_argument("--sample", type=int, default=150)
args = parser.parse_args()
s = Scorer.load(args.model)
w = Warehouse(args.warehouse)
frame = w.model_frame(split="test")
p = s.probabilities(frame)
refused = np.flatnonzero(p >= s.threshold)
rng = np.random.default_rng(0)
pick = rng.choice(refused, min(args.sample, len(refused)), replace=False)
half, triple, flips, times = [], [], 0, []
for i in pick.tolist():
    sk = int(frame[i, "SK_ID_CURR"])
    app, feat = w.application_row(sk), frame.slice(i, 1)
    vals = s.field_values(app)
    base = s.explain(feat).probability
    # A change outside what training saw raises WhatIfError (a ValueError): not counted.
    with contextlib.suppress(ValueError):
        half.append(100 * (s.what_if(app, feat, {"AMT_ANNUITY": vals["AMT_ANNUITY"] / 2}).probability - base))
    spec = {x.name: x for x in s.editable_fields()}["AMT_INCOME_TOTAL"]
    with contextlib.suppress(ValueError):
        triple.append(
            100
            * (
                s.what_if(
                    app, feat, {"AMT_INCOME_TOTAL": min(3 * vals["AMT_INCOME_TOTAL"], spec.maximum)}
                ).probability
                - base
            )
        )
    t = time.perf_counter()
    cf = what_it_would_take(s, app, feat)
    times.append(time.perf_counter() - t)
    flips += bool(cf.options)
print(
    f"refused clients sampled: {len(pick)} (of {len(refused)} refused in test split), median probability {100 * np.median(p[pick]):.1f} %"
)
print(
    f"halving the annuity: median change {statistics.median(half):+.1f} points (p25 {np.percentile(half, 25):+.1f}, p75 {np.percentile(half, 75):+.1f})"
)
print(f"tripling the income: median change {statistics.median(triple):+.1f} points")
print(
    f"what it would take: a flipping proposal for {flips}/{len(pick)} refused clients; median time {1000 * statistics.median(times):.0f} ms"
)
print(
    "metrics:", {k: round(v, 4) for k, v in s.metrics.items() if k in ("cv_auc", "oof_auc", "logistic_auc")}
)
