"""Section 28: each model's success AUC on its training scenes (the first 64 of the
synthetic train split) against the 64 test scenes, and the difference with its standard
error (unpaired: different sequences; sqrt of the two squared standard errors of the
means over sequences). Reads the evaluations in evals/ here and in ../matcher/evals/
(train_split.sh, students.sh).

    PYTHONPATH=. python studies/siamrpn/results/scenes/train_split.py \
        > studies/siamrpn/results/scenes/train_split.md
"""

import pathlib

from studies.distillation.analyze import mean_se
from studies.siamrpn.compare import load_eval

HERE = pathlib.Path(__file__).parent
MATCHER = HERE.parent / "matcher" / "evals"
# name: (training scenes, train-split evaluation, test-split evaluation)
MODELS = {
    "zoo SiamFC teacher": (
        64,
        HERE / "evals/eval_train_zoo#siamfc_teacher",
        MATCHER / "eval_zoo#siamfc_teacher",
    ),
    "zoo RPN teacher (48-128-192-192-128)": (
        64,
        HERE / "evals/eval_train_zoo#siamrpn_teacher",
        MATCHER / "eval_zoo#siamrpn_teacher",
    ),
    "M1000": (64, HERE / "evals/eval_train_1000", MATCHER / "eval_1000"),
    "S1000": (512, HERE / "evals/eval_train_S_1000", HERE / "evals/eval_S_1000"),
    "SL1000": (512, HERE / "evals/eval_train_SL_1000", HERE / "evals/eval_SL_1000"),
    "SL2k_2000 (section 29)": (
        512,
        HERE / "evals/eval_train_SL2k_2000",
        HERE / "evals/eval_SL2k_2000",
    ),
}
# The zoo's students (students.sh): 64 training scenes, both splits evaluated there.
for _name in ("siamfc_student_0", "siamfc_student_1", "siamrpn_student_0", "siamrpn_student_1"):
    MODELS[f"zoo {_name}"] = (
        64,
        HERE / f"evals/eval_students_train#{_name}",
        HERE / f"evals/eval_students_test#{_name}",
    )


def main() -> None:
    print("| model | training scenes | train split | test split | train - test |")
    print("|---|---|---|---|---|")
    for name, (scenes, train, test) in MODELS.items():
        a, se_a = mean_se(list(load_eval(train)["sequences"].values()))
        b, se_b = mean_se(list(load_eval(test)["sequences"].values()))
        se = (se_a**2 + se_b**2) ** 0.5
        print(f"| {name} | {scenes} | {a:.3f} | {b:.3f} | {a - b:+.3f} ± {se:.3f} |")


if __name__ == "__main__":
    main()
