#!/usr/bin/env bash
# The distillation study's exact commands (run from the repository root). Every step
# is resumable: run the same command again after a kill and it continues.
set -euo pipefail
RUNS=${RUNS:-runs/distill_study}
export JAX_COMPILATION_CACHE_DIR=${JAX_COMPILATION_CACHE_DIR:-$RUNS/jaxcache}

# 1. The laptop pipeline (teacher 48-128-192-192-128, 600 steps; the baseline students).
#    Sections 1-2 used the main job as it was then: teacher 600 steps, both decaying to
#    1e-5, 16 scenes.
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/pipeline \
    --config.pipeline.laptop.teacher_steps=600 --config.pipeline.laptop.teacher_lr_end=1e-5 \
    --config.pipeline.laptop.student_lr_end=1e-5 --config.pipeline.eval_sequences=0

# 2. What the teacher's maps carry (logit range, soft-target mass, suppression) and a
#    figure of teacher / student maps.
python -m studies.distillation.inspect_maps --teacher=$RUNS/pipeline/teacher \
    --students=$RUNS/pipeline/students,$RUNS/pipeline/scratch \
    --out=studies/distillation/results/baseline_maps --stats_pairs=128

# 3. Pilot (one seed, 600 student steps): the soft-loss forms side by side, 48 test scenes.
python -m dsiam_jax.main --config=configs/distill_study.py:pilot \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/pilot
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/pilot/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/pilot/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/pilot --out=studies/distillation/results/pilot \
    --pairs=spatial_t2:soft,soft_balanced:soft

# 4. Main (three seeds, 1500 steps): scratch, the paper's soft loss, the best pilot form,
#    and the same with two students sharing.
python -m dsiam_jax.main --config=configs/distill_study.py:main \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/main
# the teacher on the same 48 scenes (the pilot's teacher_eval holds the same numbers)
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/main/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/main/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/main --out=studies/distillation/results/main
# 5. The learning-rate schedule at the main job's length (three seeds, 300 steps): the
#    default decay 1e-2 -> 1e-5 against 1e-2 -> 1e-3, for scratch and spatial_t2.
python -m dsiam_jax.main --config=configs/distill_study.py:schedule \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/schedule
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/schedule/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/schedule/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/schedule \
    --out=studies/distillation/results/schedule \
    --pairs=spatial_t2_lr3:spatial_t2,scratch_lr3:scratch,spatial_t2_lr3:scratch_lr3
python -m studies.distillation.plot_losses --sweep=$RUNS/schedule \
    --runs=spatial_t2_seed0,spatial_t2_lr3_seed0,scratch_seed0,scratch_lr3_seed0 \
    --out=studies/distillation/results/schedule/losses.png
# 6. Knobs at 600 steps with the better schedule (three seeds; same teacher and scenes):
#    spatial_t2_lr3 alone, with a 4x soft weight, with the feature hint at weight 1 and
#    0.1 (the hint rows' own commands, run on another machine: results/knobs_hint/run.sh).
python -m dsiam_jax.main --config=configs/distill_study.py:knobs \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/knobs
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/knobs/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/knobs/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/knobs --out=studies/distillation/results/knobs \
    --pairs=spatial_t2_lr3_w4:spatial_t2_lr3,spatial_t2_lr3_hint:spatial_t2_lr3,spatial_t2_lr3_hint01:spatial_t2_lr3
# 7. Length on the better schedule (three seeds, 1500 steps, also evaluated at 600 and
#    1000): spatial_t2_lr3 against scratch_lr3 (same teacher and scenes).
python -m dsiam_jax.main --config=configs/distill_study.py:long \
    --config.ablation.teacher_checkpoint=$RUNS/pipeline/teacher --workdir=$RUNS/long
python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$RUNS/pipeline/teacher \
    --config.eval.layout=got10k --config.eval.root=$RUNS/long/data/synthetic_got10k/test \
    --config.eval.split= --workdir=$RUNS/long/teacher_eval
python -m studies.distillation.analyze --sweep=$RUNS/long --out=studies/distillation/results/long \
    --pairs=spatial_t2_lr3:scratch_lr3
# 8. The main job's teacher schedule (section 9): the README main job with the teacher at
#    600 / 500 steps decaying to 1e-5 and 500 / 400 decaying to 1e-3 (the last is the
#    default since), students as the default; then the paired table.
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/t600 \
    --config.pipeline.laptop.teacher_steps=600 --config.pipeline.laptop.teacher_lr_end=1e-5
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/t500 \
    --config.pipeline.laptop.teacher_steps=500 --config.pipeline.laptop.teacher_lr_end=1e-5
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/t500_lr3 \
    --config.pipeline.laptop.teacher_steps=500
python -m dsiam_jax.main --config=configs/default.py --workdir=$RUNS/t400_lr3
python -m studies.distillation.compare_pipelines \
    --runs=t600=$RUNS/t600,t500=$RUNS/t500,t500_lr3=$RUNS/t500_lr3,t400_lr3=$RUNS/t400_lr3 \
    --pairs=t500:t600,t500_lr3:t500,t400_lr3:t600,t400_lr3:t500_lr3 \
    --out=studies/distillation/results/teacher_schedule
