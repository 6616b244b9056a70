# Sourced by the run scripts under studies/siamrpn/results/: the work folder, the
# compilation cache, and run_eval (mode=evaluate on the 64 synthetic test sequences).
set -euo pipefail
W=${W:-/work/runs}
export JAX_COMPILATION_CACHE_DIR=$W/jaxcache
run_eval() {  # workdir [eval folder name, default eval] [config overrides]
  python -m dsiam_jax.main --config=configs/evaluate.py --config.checkpoint=$1 \
      --config.eval.layout=synthetic --config.eval.split=test --workdir=$1/${2:-eval} \
      --config.backend=jax "${@:3}"
}
