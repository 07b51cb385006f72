"""Reference oracle for test/experiments/gbstats.test.ts.

Reads one batch {"kind": ..., "cases": [...]} as JSON on stdin, runs every case through GrowthBook's
own engine (gbstats==0.8.0; statsmodels for the multiple-comparison corrections, which gbstats lacks)
and writes {"results": [...]} to stdout, one result per case, in order. Non-finite floats are encoded
as the strings "NaN", "Infinity", "-Infinity" (JSON has no literal for them). A case on which gbstats
raises gives {"exception": "..."}.
"""
import gc
import json
import math
import sys

from gbstats.bayesian.tests import EffectBayesianABTest, EffectBayesianConfig, GaussianPrior
from gbstats.frequentist.tests import (
    FrequentistConfig,
    SequentialConfig,
    SequentialTwoSidedTTest,
    TwoSidedTTest,
)
from gbstats.models.statistics import (
    ProportionStatistic,
    RatioStatistic,
    RegressionAdjustedStatistic,
    SampleMeanStatistic,
)
from gbstats.gbstats import process_single_metric
from gbstats.models.settings import AnalysisSettingsForStatsEngine, MetricSettingsForStatsEngine
from gbstats.utils import check_srm
from statsmodels.stats.multitest import multipletests


def component(c, n):
    if c["type"] == "mean":
        return SampleMeanStatistic(n=n, sum=c["sum"], sum_squares=c["sumSquares"])
    return ProportionStatistic(n=n, sum=c["sum"])


def statistic(s):
    t = s["type"]
    if t in ("mean", "proportion"):
        return component(s, s["n"])
    if t == "ratio":
        return RatioStatistic(
            n=s["n"],
            m_statistic=component(s["m"], s["n"]),
            d_statistic=component(s["d"], s["n"]),
            m_d_sum_of_products=s["mdCrossProd"],
        )
    if t == "cuped":
        return RegressionAdjustedStatistic(
            n=s["n"],
            post_statistic=component(s["post"], s["n"]),
            pre_statistic=component(s["pre"], s["n"]),
            post_pre_sum_of_products=s["postPreCrossProd"],
            theta=0,
        )
    raise ValueError(t)


def base_config(c):
    return dict(
        difference_type=c.get("differenceType", "relative"),
        traffic_proportion_b=c.get("trafficProportionB", 1),
        phase_length_days=c.get("phaseLengthDays", 1),
    )


def effect(res):
    return {
        "expected": res.expected,
        "ci": list(res.ci),
        "upliftMean": res.uplift.mean,
        "upliftStddev": res.uplift.stddev,
        "errorMessage": res.error_message,
    }


def theta_of(test):
    # BaseABTest.__init__ sets the pooled theta on both RA statistics (or reverts them to post stats).
    return getattr(test.stat_a, "theta", None)


def run_frequentist(case, sequential):
    c = case["config"]
    a, b = statistic(case["a"]), statistic(case["b"])
    if sequential:
        cfg = SequentialConfig(
            **base_config(c),
            alpha=c.get("alpha", 0.05),
            test_value=c.get("testValue", 0),
            sequential_tuning_parameter=c.get("sequentialTuningParameter", 5000),
        )
        test = SequentialTwoSidedTTest(a, b, cfg)
    else:
        cfg = FrequentistConfig(**base_config(c), alpha=c.get("alpha", 0.05), test_value=c.get("testValue", 0))
        test = TwoSidedTTest(a, b, cfg)
    res = test.compute_result()
    out = effect(res)
    out["pValue"] = res.p_value
    out["theta"] = theta_of(test)
    if res.error_message is None:
        out["dof"] = test.dof
    return out


def run_bayesian(case):
    c = case["config"]
    p = c.get("prior", {})
    cfg = EffectBayesianConfig(
        **base_config(c),
        alpha=c.get("alpha", 0.05),
        inverse=c.get("inverse", False),
        prior_type=c.get("priorType", "relative"),
        prior_effect=GaussianPrior(
            mean=p.get("mean", 0), variance=p.get("variance", 1), proper=p.get("proper", False)
        ),
    )
    res = EffectBayesianABTest(statistic(case["a"]), statistic(case["b"]), cfg).compute_result()
    out = effect(res)
    out.update(chanceToWin=res.chance_to_win, risk=list(res.risk), riskType=res.risk_type)
    return out


def run_case(kind, case):
    if kind == "frequentist":
        return run_frequentist(case, sequential=False)
    if kind == "sequential":
        return run_frequentist(case, sequential=True)
    if kind == "bayesian":
        return run_bayesian(case)
    if kind == "srm":
        return {"pValue": check_srm(case["users"], case["weights"])}
    if kind == "corrections":
        return {
            "holm": list(multipletests(case["pValues"], method="holm")[1]),
            "bh": list(multipletests(case["pValues"], method="fdr_bh")[1]),
        }
    if kind == "experiment":
        return run_experiment(case)
    raise ValueError(f"unknown kind {kind}")


def run_experiment(case):
    """gbstats' whole-metric runner on query rows (gbstats column names), one analysis, one dimension."""
    analysis = AnalysisSettingsForStatsEngine(**case["analysis"])
    metric = MetricSettingsForStatsEngine(**case["metric"])
    res = process_single_metric(case["rows"], metric, [analysis])
    dim = res.analyses[0].dimensions[0]
    variations = []
    for v in dim.variations:
        d = {"users": v.users, "mean": v.stats.mean, "stddev": v.stats.stddev}
        for k in ("expected", "ci", "pValue", "chanceToWin", "risk", "errorMessage"):
            if hasattr(v, k):
                d[k] = list(getattr(v, k)) if k in ("ci", "risk") else getattr(v, k)
        if hasattr(v, "uplift"):
            d["upliftStddev"] = v.uplift.stddev if hasattr(v.uplift, "stddev") else v.uplift["stddev"]
        variations.append(d)
    return {"srm": dim.srm, "variations": variations}


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
    batch = json.load(sys.stdin)
    if batch["kind"] == "corrections":
        # statsmodels 0.15's multipletests(method="holm") calls gc.collect() on every call (~50 ms);
        # skipping it changes no result and keeps 300 cases under a second.
        gc.collect = lambda *args, **kwargs: 0
    results = []
    for case in batch["cases"]:
        try:
            results.append(run_case(batch["kind"], case))
        except Exception as e:  # gbstats raising is itself an answer the test checks
            results.append({"exception": f"{type(e).__name__}: {e}"})
    json.dump({"results": encode(results)}, sys.stdout, allow_nan=False)


if __name__ == "__main__":
    main()
