"""Can an RPN's regression fit the centre offsets at all? (a wiring check, issue 14)

    python -m studies.siamrpn.overfit_reg --model=W/E_dw_rank --pairs=16 --steps=200

Fine-tunes `--model` (Adam 1e-3, batch-mode BatchNorm, the training objective's
ground-truth loss with the library's defaults) on a fixed set of `--pairs` training
pairs and prints, every steps/5, the loss terms and the correlation of each predicted
reg coordinate (dx, dy, log w, log h) with its target at the sampled positive anchors.
If targets, channel layout and gradients are consistent, dx / dy reach a correlation
near 1 on these pairs; a model that cannot generalise them still can memorise them.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from dsiam_jax import anchors as anchors_lib
from dsiam_jax import models as M
from dsiam_jax.train import objective
from dsiam_jax.train import targets as targets_lib
from dsiam_jax.train.settings import LossSettings
from studies.siamrpn import diagnose


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="an RPN checkpoint or zoo name")
    p.add_argument("--pairs", type=int, default=16)
    p.add_argument("--steps", type=int, default=200)
    a = p.parse_args(argv)
    (model,) = diagnose.load_labelled(a.model).values()
    spec, net = model.spec, M.build(model.spec)
    batch = diagnose.held_out_pairs(a.pairs, diagnose.TRAIN_SEARCH, 0, "train")
    anchors = anchors_lib.anchors_for(spec, diagnose.TEMPLATE, diagnose.TRAIN_SEARCH)
    keys = jax.random.split(jax.random.PRNGKey(1), a.pairs)
    negative = jnp.zeros(a.pairs, bool)
    tg = targets_lib.rpn_targets(keys, jnp.asarray(batch["box"]), negative, anchors)
    z, x = jnp.asarray(batch["template"]), jnp.asarray(batch["search"])
    loss = LossSettings()
    opt = optax.adam(1e-3)

    def objective_of(params, stats):
        out, new = M.forward(net, {"params": params, "batch_stats": stats}, z, x, train=True)
        pred = objective.prediction(out, spec.num_anchors)
        terms = {k: jnp.mean(v) for k, v in objective.gt_terms(pred, tg, loss).items()}
        return terms["gt"], (new, terms, pred.reg)

    @jax.jit
    def step(params, opt_state, stats):
        (_, (stats, terms, reg)), grads = jax.value_and_grad(objective_of, has_aux=True)(
            params, stats
        )
        updates, opt_state = opt.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, stats, terms, reg

    params, stats = model.variables["params"], model.variables.get("batch_stats", {})
    opt_state = opt.init(params)
    pos, delta = np.asarray(tg["pos"]), np.asarray(tg["delta"])
    for i in range(a.steps + 1):
        params, opt_state, stats, terms, reg = step(params, opt_state, stats)
        if i % max(a.steps // 5, 1) == 0:
            got, want = np.asarray(reg)[pos], delta[pos]
            corr = [round(float(np.corrcoef(want[:, c], got[:, c])[0, 1]), 3) for c in range(4)]
            losses = {k: round(float(v), 4) for k, v in terms.items()}
            print(f"step {i}: {losses} corr dx/dy/dlogw/dlogh {corr}", flush=True)


if __name__ == "__main__":
    main()
