#!/usr/bin/env bash
# studies/siamrpn section 24: where SiamFC's tracker beats the RPN's on the same map.
# Part 1: C_long_lr3 (the trained SiamFC, 0.568) evaluated with its tracker changed one
# part at a time toward the RPN tracker (one 271 crop, 19x19 cells, no upsampling, no
# scale pyramid); N_8k with C's response as its classifier (hybrid.py's siamfc row)
# under the RPN tracker's other centre rules and settings, down to the RPN tracker
# configured as the stripped SiamFC tracker (the same boxes expected).
# Part 2: the RPN tracker's window mixed with the log-odds normalised as SiamFC's map
# (tracker.siamrpn.score_map=normalized) instead of pysot's probabilities; the window
# influence chosen on the 64 validation sequences (one setting for the five RPN models),
# then each model evaluated once on the 64 test sequences.
# W=/work/runs, run from a snapshot; rerunning skips what is done.
source studies/siamrpn/results/common.sh  # W, run_eval, eval_once
C=$W/rpn_lr3/C_long_lr3
OUT=studies/siamrpn/results/trackers
FC=--config.tracker.siamfc
RPN=--config.tracker.siamrpn
eval_once $C eval_271 $FC.search_size=271
eval_once $C eval_up1 $FC.response_up=1
eval_once $C eval_1scale $FC.num_scales=1
eval_once $C eval_rpnlike $FC.search_size=271 $FC.response_up=1 $FC.num_scales=1
python -m studies.siamrpn.compare --out=$OUT/siamfc_parts.json \
    --runs="C:0=$C/eval,C271:0=$C/eval_271,Cup1:0=$C/eval_up1,C1s:0=$C/eval_1scale,Crpn:0=$C/eval_rpnlike" \
    --pairs="C-C271,C-Cup1,C-C1s,C-Crpn"
python -m studies.siamrpn.hybrid --evals="C=$C/eval,C271=$C/eval_271,Cup1=$C/eval_up1,C1s=$C/eval_1scale,Crpn=$C/eval_rpnlike" \
    --models= --out=$OUT/siamfc_parts_frames.json
hybrid_once() {  # key hybrid-flags...: C's response in N_8k's tracker, unless `key` is done
  python -c "import json, sys; sys.exit('$1' not in json.load(open('$OUT/hybrid_centre.json')))" \
      2>/dev/null || python -m studies.siamrpn.hybrid --models=$W/rpn_long8k/N_8k --siamfc=$C \
      --variants=siamfc --out=$OUT/hybrid_centre.json "${@:2}"
}
hybrid_once "N_8k:siamrpn_teacher center=anchor" --center=anchor
hybrid_once "N_8k:siamrpn_teacher center=peak" --center=peak
S="lr=0 penalty_k=0"  # no size change, no scale / aspect penalty (hybrid's key: spaces)
hybrid_once "N_8k:siamrpn_teacher center=anchor lr=0" --center=anchor --settings=lr=0
hybrid_once "N_8k:siamrpn_teacher center=anchor $S" --center=anchor --settings=${S// /,}
for w in 0.176 0.05; do  # and window influence 0.42 (the default) above
  hybrid_once "N_8k:siamrpn_teacher center=anchor $S window_influence=$w" --center=anchor \
      --settings=${S// /,},window_influence=$w
done
hybrid_once "N_8k:siamrpn_teacher center=anchor $S window_influence=0.176 score_map=normalized" \
    --center=anchor --settings=${S// /,},window_influence=0.176,score_map=normalized

# Part 2. compare.py's "seed" is the model's index in RPN_MODELS here (0 = N, ..., 4 = R):
# each pair is averaged over the five models per sequence.
RPN_MODELS="N:rpn_neg/N_long_lr3_s0 N1:rpn_neg/N_long_lr3_s1 N4k:rpn_budget/N_4k N8k:rpn_long8k/N_8k R:rpn_x/R_long_lr3"
WINDOWS=${WINDOWS:-0.1 0.176 0.3 0.42 0.55}  # 0.42: pysot's weight on probabilities
for m in $RPN_MODELS; do
  eval_once $W/${m#*:} eval_val_prob --config.eval.split=val
  for w in $WINDOWS; do
    eval_once $W/${m#*:} eval_val_norm$w --config.eval.split=val $RPN.score_map=normalized \
        $RPN.window_influence=$w
  done
done
runs() {  # eval-folder label: compare.py's --runs for every model
  i=0; for m in $RPN_MODELS; do echo -n "$2:$i=$W/${m#*:}/$1,"; i=$((i+1)); done
}
VAL_RUNS="$(runs eval_val_prob prob)"
for w in $WINDOWS; do VAL_RUNS+="$(runs eval_val_norm$w norm$w)"; done
python -m studies.siamrpn.compare --out=$OUT/window_val.json --runs="$VAL_RUNS" \
    --pairs="$(for w in $WINDOWS; do echo -n "norm$w-prob,"; done)"
BEST=$(python -c "import json; v = json.load(open('$OUT/window_val.json'))['variants']
print(max((a['mean_auc'], k[4:]) for k, a in v.items() if k != 'prob')[1])")
echo "window influence chosen on the validation split: $BEST"
for m in $RPN_MODELS; do
  eval_once $W/${m#*:} eval_norm$BEST $RPN.score_map=normalized $RPN.window_influence=$BEST
done
# C (SiamFC, 2,000 steps) paired with N8k (index 3).
python -m studies.siamrpn.compare --out=$OUT/window_test.json \
    --runs="$(runs eval prob)$(runs eval_norm$BEST norm)C:3=$C/eval" --pairs="norm-prob,C-norm,C-prob"
# Part 1 (cont.): C's response with N_8k's own regression (the RPN tracker's centre and
# size rules) and SiamFC's window weight on the normalised map.
hybrid_once "N_8k:siamrpn_teacher center=regression window_influence=0.176 score_map=normalized" \
    --settings=window_influence=0.176,score_map=normalized

# Part 3: the chosen rule on RPN models that took no part in the choice (earlier
# sections' recipes, seeds and heads; the zoo teacher of section 22 half-trained, at
# step 3,000: checkpoints/3000 of $W/zoo_rpn/teacher copied to $W/zoo_rpn/teacher_at3000
# with its config.json while training went on), test split only.
HELD_OUT="D:rpn_long8k/D_s0 I:rpn_long8k/I_s0 E:rpn_lr3/E_long_lr3 E1:rpn_x/E_long_lr3_s1 E128:rpn_toy/E128_long_lr3 G:rpn_x/G_long_lr3 K:rpn_x/K_long_lr3 RK:rpn_x/RK_long_lr3 R1:rpn_x/R_long_lr3_s1 X:rpn_x/X_long_lr3 Z3k:zoo_rpn/teacher_at3000"
for m in $HELD_OUT; do
  eval_once $W/${m#*:} eval
  eval_once $W/${m#*:} eval_norm$BEST $RPN.score_map=normalized $RPN.window_influence=$BEST
done
RPN_MODELS=$HELD_OUT
python -m studies.siamrpn.compare --out=$OUT/window_heldout.json \
    --runs="$(runs eval prob)$(runs eval_norm$BEST norm)" --pairs="norm-prob"
