"""Paired comparison of RPN training recipes: success AUC per sequence, seed by seed.

    python -m studies.siamrpn.compare --out=studies/siamrpn/results/recipes.json \
        --runs="A:0=W/A_dw/eval,A:1=W/A_dw_seed1/eval,E:0=W/E_dw_rank/eval,..." \
        --pairs="E-A"

Each run is `variant:seed=<mode=evaluate workdir>` (its eval.json, one tracker; or
`<workdir>#NAME` for the tracker NAME of an eval.json with several). A pair
`X-Y` is X minus Y on the seeds both have, averaged over seeds per sequence; its
standard error is over sequences (`studies.distillation.analyze.paired`). With
`--worst=N`, each pair also says per seed how concentrated it is: the median
per-sequence difference, the share of the mean carried by the N largest differences
(their sum / number of sequences), and those N sequences. `--skip_first=N` leaves out
each eval's first N sequences by name (synthetic names number them), e.g. the ones
earlier choices looked at.
"""

from __future__ import annotations

import json
import pathlib
import statistics
from collections.abc import Sequence

from absl import app, flags

from studies.distillation.analyze import paired

RUNS = flags.DEFINE_string("runs", "", "variant:seed=eval_workdir, comma-separated")
PAIRS = flags.DEFINE_string("pairs", "", "X-Y pairs (X minus Y), comma-separated")
OUT = flags.DEFINE_string("out", "", "JSON to write (a .md table is written next to it)")
WORST = flags.DEFINE_integer("worst", 0, "per pair and seed: the N largest differences")
SKIP_FIRST = flags.DEFINE_integer("skip_first", 0, "leave out each eval's first N sequences")


def load_eval(folder: str | pathlib.Path, skip_first: int = 0) -> dict:
    """`{'auc', 'sequences': {name: auc}}` of the single tracker in `folder/eval.json`,
    or of the tracker NAME when `folder` ends in `#NAME` (an eval of several models);
    without the first `skip_first` sequences in name order."""
    folder, _, name = str(folder).partition("#")
    report = json.loads((pathlib.Path(folder) / "eval.json").read_text())
    if name:
        tracker = report["trackers"][name]
    else:
        (tracker,) = report["trackers"].values()
    names = sorted(tracker["sequences"])[skip_first:]
    seqs = {k: tracker["sequences"][k]["success_auc"] for k in names}
    return {"auc": statistics.fmean(seqs.values()), "sequences": seqs}


def concentration(a: dict, b: dict, worst: int) -> dict:
    """How `a` minus `b` (two `load_eval` entries) spreads over their common sequences:
    `median` of the per-sequence differences, `worst_share` = the `worst` largest
    differences summed / number of sequences (their part of the mean), and `worst`
    (those sequences, largest first)."""
    seqs = sorted(set(a["sequences"]) & set(b["sequences"]))
    diff = {q: a["sequences"][q] - b["sequences"][q] for q in seqs}
    top = sorted(seqs, key=lambda q: (-diff[q], q))[:worst]
    return {
        "median": statistics.median(diff.values()),
        "worst_share": sum(diff[q] for q in top) / len(seqs),
        "worst": top,
    }


def compare(
    runs: dict[str, dict[int, str]],
    pairs: Sequence[tuple[str, str]],
    worst: int = 0,
    skip_first: int = 0,
) -> dict:
    """Per-variant mean AUC over seeds and the paired differences (`worst` > 0: with
    each pair's `concentration` per common seed), each eval without its first
    `skip_first` sequences (`load_eval`)."""
    loaded = {
        v: {s: load_eval(p, skip_first) for s, p in seeds.items()} for v, seeds in runs.items()
    }
    variants = {
        v: {"seeds": sorted(e), "auc": {s: e[s]["auc"] for s in sorted(e)}}
        for v, e in loaded.items()
    }
    for v in variants.values():
        v["mean_auc"] = statistics.fmean(v["auc"].values())
    diffs = [{"a": a, "b": b, **(paired(loaded[a], loaded[b]) or {})} for a, b in pairs]
    for d in diffs if worst else ():  # on the seeds `paired` compared
        d["concentration"] = {
            s: concentration(loaded[d["a"]][s], loaded[d["b"]][s], worst)
            for s in d.get("seeds", ())
        }
    return {"variants": variants, "pairs": diffs}


def markdown(result: dict) -> str:
    lines = ["| variant | seeds | success AUC per seed | mean |", "|---|---|---|---|"]
    for name, v in result["variants"].items():
        per = ", ".join(f"{a:.3f}" for a in v["auc"].values())
        lines.append(f"| {name} | {len(v['seeds'])} | {per} | {v['mean_auc']:.3f} |")
    lines += ["", "| pair | seeds | sequences | difference | SE (sequences) | > 2 SE |"]
    lines.append("|---|---|---|---|---|---|")
    for p in result["pairs"]:
        if "diff" not in p:
            continue
        lines.append(
            f"| {p['a']} - {p['b']} | {len(p['seeds'])} | {p['num_sequences']} | "
            f"{p['diff']:+.3f} | {p['se_sequences']:.3f} | {'yes' if p['significant'] else 'no'} |"
        )
    worst = [p for p in result["pairs"] if p.get("concentration")]
    if worst:
        lines += ["", "| pair | seed | median per sequence | share of the worst | worst |"]
        lines.append("|---|---|---|---|---|")
    for p in worst:
        for seed, c in p["concentration"].items():
            lines.append(
                f"| {p['a']} - {p['b']} | {seed} | {c['median']:+.3f} | "
                f"{c['worst_share']:+.3f} | {', '.join(c['worst'])} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str]) -> None:
    del argv
    runs: dict[str, dict[int, str]] = {}
    for item in filter(None, RUNS.value.split(",")):
        name, path = item.split("=", 1)
        variant, seed = name.split(":")
        runs.setdefault(variant, {})[int(seed)] = path
    pairs = [tuple(p.split("-", 1)) for p in filter(None, PAIRS.value.split(","))]
    result = compare(runs, pairs, WORST.value, SKIP_FIRST.value)
    text = markdown(result)
    print(text)
    if OUT.value:
        out = pathlib.Path(OUT.value)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(result, indent=1) + "\n")
        out.with_suffix(".md").write_text(text)


if __name__ == "__main__":
    app.run(main)
