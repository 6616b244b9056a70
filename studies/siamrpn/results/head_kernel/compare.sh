#!/usr/bin/env bash
# Section 40 (after run.sh): K3 (a 3x3 read-out after the correlation) against RT10 on the
# same seeds (section 38) and the SiamFC teacher's recipe on two seeds (as section 38);
# where the boxes go wrong (box_errors.py); the size probe of K3's regression tower
# (size_probe.py, as section 39 probed RT10's). Writes compare.json / .md,
# box_errors.json and size_probe.json here.
source studies/siamrpn/results/common.sh
R=$W/head_kernel
OUT=studies/siamrpn/results/head_kernel
python -m studies.siamrpn.compare \
    --runs="$FC_RT10_RUNS,K3:1=$R/K3_test256,K3:2=$R/K3_s2_test256" \
    --pairs=K3-RT10,K3-fc --out=$OUT/compare.json
PYTHONPATH=. python -m studies.siamrpn.box_errors --split=test --out=$OUT/box_errors.json \
    --evals="K3_s1=$R/K3_test256,K3_s2=$R/K3_s2_test256"
PYTHONPATH=. python -m studies.siamrpn.size_probe --out=$OUT/size_probe.json \
    --models="$R/K3/checkpoints/1000,$R/K3_s2/checkpoints/1000"
echo done
