"""Generates test/experiments/fixtures/gbstats-reference.json: reference numbers from GrowthBook's
current gbstats (its main branch, which PyPI does not publish), for what gbstats 0.8.0 cannot check:
CUPED with relative lift (a newer variance formula) and one-sided tests (treatment greater / lesser,
fixed-horizon and sequential).

CI cannot reach GitHub, so this ran once and its output is committed; gbstats.test.ts compares Tessera
with the fixture. To regenerate (the commit is recorded in the fixture; keep it pinned):

    git -C <growthbook clone> archive <COMMIT> packages/stats | tar -x -C /tmp/gb
    python3.11 -m venv /tmp/gbvenv
    /tmp/gbvenv/bin/pip install numpy==1.26.4 scipy==1.13.1 pandas==2.3.1 pydantic==2.11.7 \
        nbformat==5.10.4 packaging==25.0          # the versions of packages/stats/requirements.txt
    PYTHONPATH=/tmp/gb/packages/stats /tmp/gbvenv/bin/python test/experiments/gbstats_reference.py \
        --commit <COMMIT> > test/experiments/fixtures/gbstats-reference.json

Inputs are drawn here with a seeded generator (deterministic output): per-variant sufficient statistics
(mean, proportion, ratio, CUPED with a mean or a binary covariate; ~8% degenerate) in the JSON shape of
src/experiments/stats/schemas.ts, a difference type (relative or absolute), alpha, test value and
sequential tuning parameter. Non-finite floats are written as "NaN", "Infinity", "-Infinity".
"""
import argparse
import importlib.metadata
import json
import math
import random
import sys

from gbstats.frequentist.tests import (
    FrequentistConfig,
    OneSidedTreatmentGreaterTTest,
    OneSidedTreatmentLesserTTest,
    SequentialConfig,
    SequentialOneSidedTreatmentGreaterTTest,
    SequentialOneSidedTreatmentLesserTTest,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)

TESTS = {
    ("fixed", "two-sided"): TwoSidedTTest,
    ("fixed", "greater"): OneSidedTreatmentGreaterTTest,
    ("fixed", "less"): OneSidedTreatmentLesserTTest,
    ("sequential", "two-sided"): SequentialTwoSidedTTest,
    ("sequential", "greater"): SequentialOneSidedTreatmentGreaterTTest,
    ("sequential", "less"): SequentialOneSidedTreatmentLesserTTest,
}
KINDS = ["cuped-mean", "cuped-proportion", "mean", "proportion", "ratio"]
CASES_PER_KIND = 24


# --- inputs (the JSON shape of Tessera's statistics) ---


def component(kind, n, mean, sd):
    if n == 0:
        return {"type": kind, "sum": 0, "sumSquares": 0} if kind == "mean" else {"type": kind, "sum": 0}
    if kind == "proportion":
        return {"type": kind, "sum": round(n * min(1.0, max(0.0, mean)))}
    s = n * mean
    return {"type": kind, "sum": s, "sumSquares": (n - 1) * sd * sd + s * s / n}


def component_sd(c, n):
    if c["type"] == "proportion":
        p = 0 if n == 0 else c["sum"] / n
        return math.sqrt(p * (1 - p))
    return math.sqrt(max(0.0, (c["sumSquares"] - c["sum"] ** 2 / n) / max(1, n - 1)))


def cross(x, y, n, rho):
    return 0 if n == 0 else (n - 1) * rho * component_sd(x, n) * component_sd(y, n) + x["sum"] * y["sum"] / n


def statistic_pair(r, kind):
    degenerate = r.choice(["tinyN", "zeroVar", "zeroBaseline"]) if r.random() < 0.08 else None
    n_a = r.randint(0, 2) if degenerate == "tinyN" else round(math.exp(r.uniform(math.log(20), math.log(200_000))))
    n_b = r.randint(0, 3) if degenerate == "tinyN" else max(2, round(n_a * r.uniform(0.7, 1.3)))
    binary = kind in ("proportion", "cuped-proportion") or (kind == "ratio" and r.random() < 0.3)
    main_type = "proportion" if binary else "mean"
    if kind.startswith("cuped"):
        other_type = main_type
    else:
        other_type = "proportion" if r.random() < 0.2 else "mean"
    scale = math.exp(r.uniform(math.log(0.01), math.log(1000)))
    base = r.uniform(0.01, 0.9) if binary else scale * r.uniform(0.2, 5) * (-1 if r.random() < 0.1 else 1)
    lift = r.gauss(0, 1) * r.choice([0.001, 0.01, 0.05, 0.2])
    sd_main = 0 if degenerate == "zeroVar" else scale * r.uniform(0.1, 10)
    other_mean = r.uniform(0.05, 0.95) if other_type == "proportion" else r.uniform(0.5, 20) * scale

    def build(n, mean):
        main_mean = round(mean) if degenerate == "zeroVar" else mean
        m = component(main_type, n, main_mean, sd_main)
        o = component(other_type, n, other_mean * r.uniform(0.95, 1.05), other_mean * r.uniform(0.1, 2))
        rho = r.uniform(-0.95, 0.95)
        if kind in ("mean", "proportion"):
            return {"type": kind, "n": n, **{k: v for k, v in m.items() if k != "type"}}
        if kind == "ratio":
            return {"type": "ratio", "n": n, "m": m, "d": o, "mdCrossProd": cross(m, o, n, rho)}
        return {"type": "cuped", "n": n, "post": m, "pre": o, "postPreCrossProd": cross(m, o, n, rho)}

    return build(n_a, 0 if degenerate == "zeroBaseline" else base), build(n_b, base * (1 + lift))


def config(r, test):
    cfg = {
        "differenceType": r.choice(["relative", "absolute"]),
        # Sequential one-sided tests need alpha < 0.5 (gbstats refuses larger ones).
        "alpha": r.choice([0.05, 0.1, 0.01, r.uniform(0.001, 0.3)]),
        "testValue": r.gauss(0, 1) * 0.01 if r.random() < 0.2 else 0,
    }
    if test == "sequential":
        cfg["sequentialTuningParameter"] = math.exp(r.uniform(math.log(100), math.log(1e6)))
    return cfg


# --- gbstats ---


def gb_component(c, n):
    if c["type"] == "mean":
        return SampleMeanStatistic(n=n, sum=c["sum"], sum_squares=c["sumSquares"])
    return ProportionStatistic(n=n, sum=c["sum"])


def gb_statistic(s):
    t = s["type"]
    if t in ("mean", "proportion"):
        return gb_component(s, s["n"])
    if t == "ratio":
        return RatioStatistic(
            n=s["n"],
            m_statistic=gb_component(s["m"], s["n"]),
            d_statistic=gb_component(s["d"], s["n"]),
            m_d_sum_of_products=s["mdCrossProd"],
        )
    # theta=None: the test computes the pooled theta (0 would be taken as given).
    return RegressionAdjustedStatistic(
        n=s["n"],
        post_statistic=gb_component(s["post"], s["n"]),
        pre_statistic=gb_component(s["pre"], s["n"]),
        post_pre_sum_of_products=s["postPreCrossProd"],
        theta=None,
    )


def run(case):
    c = case["config"]
    common = dict(difference_type=c["differenceType"], alpha=c["alpha"], test_value=c["testValue"])
    if case["test"] == "sequential":
        cfg = SequentialConfig(**common, sequential_tuning_parameter=c["sequentialTuningParameter"])
    else:
        cfg = FrequentistConfig(**common)
    test = TESTS[(case["test"], case["alternative"])]([(gb_statistic(case["a"]), gb_statistic(case["b"]))], cfg)
    res = test.compute_result()
    out = {
        "expected": res.expected,
        "ci": list(res.ci),
        "pValue": res.pValue,
        "pValueErrorMessage": res.pValueErrorMessage,
        "upliftMean": res.uplift.mean,
        "upliftStddev": res.uplift.stddev,
        "errorMessage": res.errorMessage,
        "theta": getattr(test.stat_a, "theta", None),
    }
    if res.errorMessage is None:
        out["dof"] = test.dof
    return out


def encode(v):
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if hasattr(v, "item"):  # numpy scalar
        v = v.item()
    if isinstance(v, float) and not math.isfinite(v):
        return "NaN" if math.isnan(v) else ("Infinity" if v > 0 else "-Infinity")
    return v


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--commit", required=True, help="growthbook/growthbook commit gbstats was taken from")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    r = random.Random(args.seed)
    cases = []
    for test, alternative in TESTS:
        for kind in KINDS:
            for _ in range(CASES_PER_KIND):
                a, b = statistic_pair(r, kind)
                case = {"test": test, "alternative": alternative, "kind": kind, "a": a, "b": b}
                case["config"] = config(r, test)
                case["gbstats"] = run(case)
                cases.append(case)
    fixture = {
        "source": "github.com/growthbook/growthbook packages/stats (gbstats)",
        "commit": args.commit,
        "generator": "test/experiments/gbstats_reference.py",
        "seed": args.seed,
        "python": sys.version.split()[0],
        "packages": {p: importlib.metadata.version(p) for p in ("numpy", "scipy", "pandas", "pydantic")},
        "cases": cases,
    }
    # One case per line: small, and a regenerated fixture diffs case by case.
    head = {k: v for k, v in encode(fixture).items() if k != "cases"}
    out = json.dumps(head, allow_nan=False)[:-1] + ', "cases": [\n'
    out += ",\n".join(json.dumps(c, allow_nan=False, separators=(",", ":")) for c in encode(cases))
    sys.stdout.write(out + "\n]}\n")


if __name__ == "__main__":
    main()
