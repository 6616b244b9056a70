"""The search policy: an LSTM over the prunable layers, trained with REINFORCE (N2N).

At layer l the LSTM (32 hidden units) reads the layer's state (kind, kernel, stride,
width, groups; `space.PrunableLayer`) and the previous layer's action (one-hot, a
start symbol at layer 1); a dense layer makes the logits of a categorical over the
ratio set, from which layer l's action is sampled (autoregressive).

Training (REINFORCE with a moving-average baseline b):

    loss = -mean_i[(R_i - b) * sum_l log pi(a_il | a_i<l)] - entropy_weight * H
    b <- decay * b + (1 - decay) * mean_i R_i     (b starts at the first batch's mean)

with Adam (optax). Randomness: iteration k samples with `fold_in(key, k)`, so a
resumed search draws the same candidates. `PolicyState` (params, optimiser state,
baseline, iteration, key) is saved with `to_bytes` / restored with `from_bytes`.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import serialization, struct

from dsiam_jax.student_search.space import PrunableLayer

HIDDEN = 32  # LSTM units (N2N)


def layer_features(layers: Sequence[PrunableLayer]) -> np.ndarray:
    """The policy's view of each layer: [is_conv, is_head, kernel/11, stride/2,
    width / widest, groups/2].  # [L, 6]"""
    widest = max(layer.out_channels for layer in layers)
    rows = [
        (
            float(layer.kind == "conv"),
            float(layer.kind == "head"),
            layer.kernel / 11.0,
            layer.stride / 2.0,
            layer.out_channels / widest,
            layer.groups / 2.0,
        )
        for layer in layers
    ]
    return np.asarray(rows, np.float32)


class LayerLSTM(nn.Module):
    """Logits of every layer's action given the previous layers' actions (teacher forcing)."""

    num_actions: int
    hidden: int = HIDDEN

    @nn.compact
    def __call__(self, features: jax.Array, actions: jax.Array) -> jax.Array:
        """features `[L, F]`, actions `[B, L]` (int) -> logits `[B, L, A]`.

        The logits of layer l depend only on actions[:, :l] (the LSTM is causal).
        """
        batch, num_layers = actions.shape
        cell = nn.OptimizedLSTMCell(self.hidden, name="lstm")
        head = nn.Dense(self.num_actions, name="logits")
        # previous action, one-hot over actions + a start symbol (index num_actions)
        prev = jnp.concatenate(
            [jnp.full((batch, 1), self.num_actions, actions.dtype), actions[:, :-1]], axis=1
        )
        prev = jax.nn.one_hot(prev, self.num_actions + 1)  # [B, L, A + 1]
        inputs = jnp.concatenate(
            [jnp.broadcast_to(features, (batch, *features.shape)), prev], axis=-1
        )  # [B, L, F + A + 1]
        carry = cell.initialize_carry(jax.random.key(0), inputs[:, 0].shape)
        logits = []
        for layer in range(num_layers):
            carry, h = cell(carry, inputs[:, layer])
            logits.append(head(h))
        return jnp.stack(logits, axis=1)


@struct.dataclass
class PolicyState:
    """Everything a resumed search needs of the policy."""

    params: dict
    opt_state: optax.OptState
    baseline: jax.Array  # [] moving average of the rewards
    has_baseline: jax.Array  # [] bool: the baseline has been set
    iteration: jax.Array  # [] int: updates done
    key: jax.Array  # [2] uint32: the root key (iteration k samples with fold_in(key, k))


@dataclasses.dataclass(frozen=True)
class Policy:
    """The LSTM policy over `layers` with `num_actions` choices per layer.

    Attributes:
      layers: the prunable layers (their order is the LSTM's order).
      num_actions: size of the ratio set.
      learning_rate: Adam step size.
      baseline_decay: decay of the moving-average baseline.
      entropy_weight: weight of the entropy bonus (0 = plain REINFORCE).
    """

    layers: tuple[PrunableLayer, ...]
    num_actions: int
    learning_rate: float = 0.003
    baseline_decay: float = 0.9
    entropy_weight: float = 0.0

    @functools.cached_property
    def _compiled(self):
        """The jitted sample / greedy / update functions of this policy (built once)."""
        module, optimizer = LayerLSTM(self.num_actions), optax.adam(self.learning_rate)
        features = jnp.asarray(layer_features(self.layers))
        update = functools.partial(
            _update, module, optimizer, self.baseline_decay, self.entropy_weight
        )
        return {
            "module": module,
            "optimizer": optimizer,
            "features": features,
            "sample": jax.jit(functools.partial(_sample, module), static_argnums=(3,)),
            "greedy": jax.jit(functools.partial(_greedy, module)),
            "update": jax.jit(update),
        }

    def init(self, seed: int) -> PolicyState:
        """A fresh policy: weights and the root sampling key split from `PRNGKey(seed)`."""
        c = self._compiled
        init_key, root = jax.random.split(jax.random.PRNGKey(seed))
        actions = jnp.zeros((1, len(self.layers)), jnp.int32)
        params = c["module"].init(init_key, c["features"], actions)["params"]
        return PolicyState(
            params=params,
            opt_state=c["optimizer"].init(params),
            baseline=jnp.zeros((), jnp.float32),
            has_baseline=jnp.zeros((), bool),
            iteration=jnp.zeros((), jnp.int32),
            key=root,
        )

    def sample(self, state: PolicyState, num: int) -> np.ndarray:
        """`num` action sequences for this iteration (key `fold_in(key, iteration)`).  # [N, L]"""
        c = self._compiled
        key = jax.random.fold_in(state.key, state.iteration)
        return np.asarray(c["sample"](state.params, c["features"], key, int(num)))

    def greedy(self, state: PolicyState) -> np.ndarray:
        """The most likely action per layer, chosen layer by layer.  # [L]"""
        c = self._compiled
        return np.asarray(c["greedy"](state.params, c["features"]))

    def update(
        self, state: PolicyState, actions: np.ndarray, rewards: np.ndarray
    ) -> tuple[PolicyState, dict[str, float]]:
        """One REINFORCE step on this iteration's candidates and their rewards."""
        c = self._compiled
        new, stats = c["update"](
            state,
            c["features"],
            jnp.asarray(actions, jnp.int32),
            jnp.asarray(rewards, jnp.float32),
        )
        return new, {k: float(v) for k, v in stats.items()}

    def to_bytes(self, state: PolicyState) -> bytes:
        """The state serialised (msgpack)."""
        return serialization.to_bytes(state)

    def from_bytes(self, data: bytes) -> PolicyState:
        """The state saved by `to_bytes` (of a policy with the same layers and actions)."""
        return serialization.from_bytes(self.init(0), data)


def _sample(module: LayerLSTM, params, features, key, num: int) -> jax.Array:
    actions = jnp.zeros((num, features.shape[0]), jnp.int32)
    for layer in range(features.shape[0]):
        logits = module.apply({"params": params}, features, actions)[:, layer]  # [N, A]
        choice = jax.random.categorical(jax.random.fold_in(key, layer), logits)
        actions = actions.at[:, layer].set(choice)
    return actions


def _greedy(module: LayerLSTM, params, features) -> jax.Array:
    actions = jnp.zeros((1, features.shape[0]), jnp.int32)
    for layer in range(features.shape[0]):
        logits = module.apply({"params": params}, features, actions)[:, layer]
        actions = actions.at[:, layer].set(jnp.argmax(logits, axis=-1))
    return actions[0]


def _update(module, optimizer, decay, entropy_weight, state, features, actions, rewards):
    baseline = jnp.where(state.has_baseline, state.baseline, jnp.mean(rewards))
    advantage = rewards - baseline  # [N]

    def loss_fn(params):
        logits = module.apply({"params": params}, features, actions)  # [N, L, A]
        logp = jax.nn.log_softmax(logits)
        chosen = jnp.take_along_axis(logp, actions[..., None], axis=-1)[..., 0]  # [N, L]
        entropy = -jnp.sum(jnp.exp(logp) * logp, axis=-1).sum(axis=-1)  # [N]
        pg = -jnp.mean(advantage * chosen.sum(axis=-1))
        return pg - entropy_weight * jnp.mean(entropy), jnp.mean(entropy)

    (loss, entropy), grads = jax.value_and_grad(loss_fn, has_aux=True)(state.params)
    updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
    new = state.replace(
        params=optax.apply_updates(state.params, updates),
        opt_state=opt_state,
        baseline=decay * baseline + (1.0 - decay) * jnp.mean(rewards),
        has_baseline=jnp.ones((), bool),
        iteration=state.iteration + 1,
    )
    return new, {"loss": loss, "entropy": entropy, "baseline": baseline}
