#!/usr/bin/env bash
# Sections 28-29: paired comparisons (64 test sequences) -> compare.json / compare.md here,
# from the evaluations copied into evals/ (run.sh wrote them under $W/matcher), with
# section 27's M, C and the zoo's teachers (results/matcher/evals/), and the loss table
# losses.md from copies of the runs' metrics.jsonl, and train_split.md (train_split.sh's
# evaluations). Run from the repository root.
set -euo pipefail
H=studies/siamrpn/results/scenes
E=$H/evals
M=studies/siamrpn/results/matcher
python -m studies.siamrpn.compare --out=$H/compare.json \
    --runs="S500:0=$E/eval_S_500,S1000:0=$E/eval_S_1000,SL500:0=$E/eval_SL_500,SL1000:0=$E/eval_SL_1000,SL2k_1500:0=$E/eval_SL2k_1500,SL2k_2000:0=$E/eval_SL2k_2000,M500:0=$M/evals/eval_500,M1000:0=$M/evals/eval_1000,C1000:0=$M/evals/eval_control,FC:0=$M/evals/eval_zoo#siamfc_teacher,RPN:0=$M/evals/eval_zoo#siamrpn_teacher" \
    --pairs="S500-M500,S1000-M1000,SL500-S500,SL1000-S1000,SL1000-M1000,S1000-RPN,SL1000-RPN,FC-S1000,FC-SL1000,SL2k_1500-SL1000,SL2k_2000-SL1000,SL2k_2000-SL2k_1500,SL2k_2000-RPN,FC-SL2k_2000"
# The zoo's SiamFC students against their teacher on the train scenes and the test scenes.
T="$E/eval_students_test#siamfc_student"
R="$E/eval_students_train#siamfc_student"
python -m studies.siamrpn.compare --out=$H/students.json \
    --runs="FC:0=$M/evals/eval_zoo#siamfc_teacher,FC_train:0=$E/eval_train_zoo#siamfc_teacher,S0:0=${T}_0,S1:0=${T}_1,S0_train:0=${R}_0,S1_train:0=${R}_1" \
    --pairs="S0-FC,S1-FC,S0_train-FC_train,S1_train-FC_train"
python $M/losses.py M=$M/run_metrics.jsonl S=$H/S_metrics.jsonl SL=$H/SL_metrics.jsonl SL2k=$H/SL2k_metrics.jsonl > $H/losses.md
PYTHONPATH=. python $H/train_split.py > $H/train_split.md
# hybrid_SL1000.json / hybrid_SL2k_2000.json (section 29; the runs' checkpoints, W=/work/runs):
#   python -m studies.siamrpn.hybrid --models=$W/matcher/SL/checkpoints/1000 --variants=reg,cls \
#       --sequences=32 --out=$H/hybrid_SL1000.json
#   python -m studies.siamrpn.hybrid --models=$W/matcher/SL2k/checkpoints/2000 --variants=reg,cls \
#       --sequences=32 --out=$H/hybrid_SL2k_2000.json
#   python -m studies.siamrpn.hybrid --models=$W/matcher/SL2k/checkpoints/2000 --variants=siamfc \
#       --siamfc=siamfc_teacher --sequences=32 --out=$H/hybrid_SL2k_2000_siamfc.json
#   python -m studies.siamrpn.hybrid --models=$W/matcher/SL2k/checkpoints/2000 --variants=trained \
#       --center=peak --sequences=32 --out=$H/hybrid_SL2k_2000_peak.json
