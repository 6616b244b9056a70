"""Base config: every shared field, documented. Variants import it and override.

    python -m dsiam_jax.main --config=configs/default.py --workdir=runs/default

Sections (each a function below, so a variant can rebuild one):
  mode, seed        which job runs (dsiam_jax.jobs.MODES) and the root random seed
  model             the network trained by mode=train / summarised by mode=summary
  data              training pairs (dataset layout/root, crop sizes, augmentation)
  train             optimiser, steps, batch, checkpoints, logging
  loss              ground-truth loss settings (SiamFC labels, RPN anchor sampling)
  teacher, distill  teacher checkpoint, students, distillation and sharing losses
  tracker           inference settings of the SiamFC and SiamRPN trackers
  eval              benchmark layout/root for mode=evaluate
  checkpoint        workdir(s) or zoo name(s) of trained models (evaluate/track/export)
  distributed       multi-host start-up (jax.distributed)
"""

from __future__ import annotations

import ml_collections

from dsiam_jax.models import spec as spec_lib


def model_config(kind: str = "siamfc", head: str | None = None) -> ml_collections.ConfigDict:
    """Network architecture (a `ModelSpec`) plus the runtime xcorr lowering."""
    s = spec_lib.teacher_spec(kind, head)
    m = ml_collections.ConfigDict()
    m.kind = s.kind  # 'siamfc' | 'siamrpn'
    m.channels = s.channels  # widths of the 5 AlexNet convs; a student changes these
    m.groups = s.groups  # conv groups per layer (SiamFC: (1, 2, 1, 2, 2))
    m.head = s.head  # 'xcorr' (siamfc) | 'upchannel' | 'depthwise' (siamrpn)
    m.head_channels = s.head_channels  # RPN head width; 0 = channels[-1]
    m.anchor_ratios = s.anchor_ratios  # RPN anchor aspect ratios (h/w)
    m.anchor_scales = s.anchor_scales  # RPN anchor scales (x stride 8)
    m.final_bn = s.final_bn  # BatchNorm after conv5
    m.out_scale = s.out_scale  # SiamFC response scale
    m.bn_eps = s.bn_eps
    # Equal lowerings (speed only; 'auto' picks per backend, see dsiam_jax/models):
    m.xcorr_impl = "auto"  # 'auto' | 'vmap' | 'map' | 'shift'
    m.conv1_split = "auto"  # 'auto' | 0 (one conv) | N (conv1 outputs in chunks of N)
    return m


def data_config() -> ml_collections.ConfigDict:
    """Training pairs: which datasets, crops and augmentation (SPEC sections 2, 6, 8)."""
    d = ml_collections.ConfigDict()
    d.layout = "synthetic"  # synthetic | got10k | lasot | trackingnet | imagenet_vid | otb
    d.root = ""  # dataset root folder (unused for synthetic)
    d.split = "train"
    # Several datasets with sampling weights: "layout:root:weight,layout:root:weight".
    # Overrides layout/root when set.
    d.mixture = ""
    d.template_size = 127
    d.search_size = 255
    d.context = 0.5  # template side sqrt((w+p)(h+p)), p = context * (w+h)
    d.max_gap = 100  # frames between template and search
    d.negative_prob = 0.0  # negative pairs (RPN recipes use 0.2)
    d.shuffle_buffer = 256
    d.num_parallel_calls = -1  # -1 = tf.data.AUTOTUNE
    d.prefetch = 2
    d.augment = ml_collections.ConfigDict()
    d.augment.template_scale = 0.05
    d.augment.search_scale = 0.18
    d.augment.template_shift = 4  # crop pixels
    d.augment.search_shift = 64  # crop pixels
    d.augment.color = 0.1
    d.augment.blur_prob = 0.0
    d.augment.gray_prob = 0.05
    d.augment.flip_prob = 0.0
    d.synthetic = ml_collections.ConfigDict()
    d.synthetic.num_sequences = 64
    d.synthetic.sequence_length = 40
    d.synthetic.frame_size = (320, 240)  # (width, height)
    return d


def train_config() -> ml_collections.ConfigDict:
    """Optimiser and loop (SPEC section 6)."""
    t = ml_collections.ConfigDict()
    t.num_steps = 1000
    t.batch_size = 8  # global; split over devices and processes
    t.checkpoint_every = 200  # steps
    t.log_every = 20  # steps
    t.max_to_keep = 3
    t.lr_start = 1e-2  # log-linear decay from lr_start to lr_end over num_steps
    t.lr_end = 1e-5
    t.warmup_steps = 0
    t.momentum = 0.9
    t.weight_decay = 5e-4
    t.grad_clip = 0.0  # global norm; 0 = off
    t.num_devices = 0  # 0 = all devices
    return t


def loss_config() -> ml_collections.ConfigDict:
    """Ground-truth losses (SPEC section 2)."""
    loss = ml_collections.ConfigDict()
    loss.siamfc_radius = 16.0  # positive radius in search-crop pixels
    loss.rpn_pos_iou = 0.6
    loss.rpn_neg_iou = 0.3
    loss.rpn_num_samples = 64
    loss.rpn_max_pos = 16
    loss.rpn_loc_weight = 1.2
    return loss


def distill_config() -> ml_collections.ConfigDict:
    """Students and the distillation / sharing losses (SPEC sections 4, 5)."""
    d = ml_collections.ConfigDict()
    # One channel list per student; every student shares the teacher's kind and head.
    d.students = ((24, 64, 96, 96, 64), (24, 64, 96, 96, 64))
    d.student_head_channels = 0  # RPN head width of students; 0 = their channels[-1]
    d.lambda_cls = 1.0  # background-suppressed soft loss
    d.lambda_reg = 1.0  # teacher-bounded regression (RPN)
    d.lambda_hint = 0.0  # feature hint (off by default)
    d.temperature = 2.0
    d.beta = 0.1  # weight of background positions
    d.rho = 0.1  # teacher foreground probability below which a position is background
    d.margin = 0.0  # bounded regression margin m
    d.share = True  # student-student knowledge sharing
    d.gamma = 1.0
    d.alpha = 0.0  # weight of a peer that is worse on the batch
    return d


def tracker_config() -> ml_collections.ConfigDict:
    """Inference settings (SPEC section 2, Tracking)."""
    t = ml_collections.ConfigDict()
    t.siamfc = ml_collections.ConfigDict()
    t.siamfc.template_size = 127
    t.siamfc.search_size = 255
    t.siamfc.context = 0.5
    t.siamfc.num_scales = 3
    t.siamfc.scale_step = 1.0375
    t.siamfc.scale_penalty = 0.9745
    t.siamfc.scale_lr = 0.59
    t.siamfc.window_influence = 0.176
    t.siamfc.response_up = 16
    t.siamrpn = ml_collections.ConfigDict()
    t.siamrpn.template_size = 127
    t.siamrpn.search_size = 271
    t.siamrpn.context = 0.5
    t.siamrpn.penalty_k = 0.055
    t.siamrpn.window_influence = 0.42
    t.siamrpn.lr = 0.295
    return t


def eval_config() -> ml_collections.ConfigDict:
    """Benchmark evaluation (SPEC section 7)."""
    e = ml_collections.ConfigDict()
    e.layout = "got10k"  # got10k | lasot | otb | trackingnet | folder
    e.root = ""
    e.split = ""
    e.max_sequences = 0  # 0 = all
    return e


def distributed_config() -> ml_collections.ConfigDict:
    """Multi-host start-up; 'auto' initialises when a cluster is detected."""
    d = ml_collections.ConfigDict()
    d.initialize = "auto"  # auto | yes | no
    d.coordinator_address = ""
    d.num_processes = 0
    d.process_id = -1
    return d


def get_config() -> ml_collections.ConfigDict:
    """The base config (SiamFC AlexNet teacher, synthetic data)."""
    c = ml_collections.ConfigDict()
    c.mode = "pipeline"
    c.seed = 0
    c.model = model_config("siamfc")
    c.data = data_config()
    c.train = train_config()
    c.loss = loss_config()
    c.teacher = ml_collections.ConfigDict({"checkpoint": ""})
    c.distill = distill_config()
    c.tracker = tracker_config()
    c.eval = eval_config()
    c.checkpoint = ""  # comma-separated workdirs or zoo names (evaluate/track/export)
    c.backend = "jax"  # tracking backend: jax | onnx
    c.distributed = distributed_config()
    return c
