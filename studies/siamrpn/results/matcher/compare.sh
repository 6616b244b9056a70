#!/usr/bin/env bash
# Section 27's paired comparisons (64 test sequences) -> compare.json / compare.md here,
# from the evaluations copied into evals/ (run.sh, control.sh, frozen.sh wrote them under
# $W/matcher). Run from the repository root.
set -euo pipefail
M=studies/siamrpn/results/matcher/evals
python -m studies.siamrpn.compare --out=studies/siamrpn/results/matcher/compare.json \
    --runs="M250:0=$M/eval_250,M500:0=$M/eval_500,M750:0=$M/eval_750,M1000:0=$M/eval_1000,C500:0=$M/eval_control_500,C1000:0=$M/eval_control,F250:0=$M/eval_frozen_250,F500:0=$M/eval_frozen_500,FC:0=$M/eval_zoo#siamfc_teacher,RPN:0=$M/eval_zoo#siamrpn_teacher" \
    --pairs="M500-C500,M1000-C1000,F500-M500,F250-M250,M1000-M500,M1000-RPN,FC-M1000,FC-RPN"
python studies/siamrpn/results/matcher/losses.py > studies/siamrpn/results/matcher/losses.md
# hybrid_250.json and hybrid.json (the runs' checkpoints, W=/work/runs in this session):
#   python -m studies.siamrpn.hybrid --models=$W/matcher/run/checkpoints/250 --variants=reg,cls \
#       --sequences=32 --out=studies/siamrpn/results/matcher/hybrid_250.json
#   python -m studies.siamrpn.hybrid --variants=reg,cls --sequences=32 \
#       --models=$W/matcher/frozen/checkpoints/500,$W/matcher/run/checkpoints/1000 \
#       --out=studies/siamrpn/results/matcher/hybrid.json
