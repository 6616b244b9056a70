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
  distributed       multi-host start-up (jax.distributed), CPU devices

The `loss` and `tracker` sections and the optimiser / distillation fields of `train` /
`distill` are built from their settings dataclasses, the one home of their defaults
and documentation (dsiam_jax/train/settings.py, dsiam_jax/tracking/siamfc.py,
siamrpn.py); tests/test_config_defaults.py checks every field.
"""

from __future__ import annotations

import ml_collections

from dsiam_jax.config_sections import dataclass_defaults
from dsiam_jax.models import spec as spec_lib
from dsiam_jax.tracking.siamfc import SiamFCConfig
from dsiam_jax.tracking.siamrpn import SiamRPNConfig
from dsiam_jax.train.settings import DistillSettings, LossSettings, OptimSettings
from dsiam_jax.train.state import REG_INIT_SCALE


def model_config(kind: str = "siamfc", head: str | None = None) -> ml_collections.ConfigDict:
    """Network architecture (a `ModelSpec`) plus the runtime xcorr lowering."""
    s = spec_lib.teacher_spec(kind, head)
    m = ml_collections.ConfigDict()
    m.kind = s.kind  # 'siamfc' | 'siamrpn'
    m.channels = s.channels  # widths of the 5 AlexNet convs; a student changes these
    m.groups = s.groups  # conv groups per layer (SiamFC: (1, 2, 1, 2, 2))
    m.head = s.head  # 'xcorr' (siamfc) | 'upchannel' | 'depthwise' (siamrpn)
    m.head_channels = s.head_channels  # RPN head width; 0 = channels[-1]
    # Depth-wise RPN head: kernel of the conv after the correlation (1 = pysot's 1x1;
    # 3 = 3x3 padded, each cell sees its neighbours; studies/siamrpn section 8).
    m.rpn_head_kernel = s.rpn_head_kernel
    # RPN: add SiamFC's feature correlation to the foreground logits (studies/siamrpn 14).
    m.rpn_cls_xcorr = s.rpn_cls_xcorr
    m.anchor_ratios = s.anchor_ratios  # RPN anchor aspect ratios (h/w)
    m.anchor_scales = s.anchor_scales  # RPN anchor scales (x stride 8)
    m.final_bn = s.final_bn  # BatchNorm after conv5
    m.out_scale = s.out_scale  # SiamFC response scale
    m.bn_eps = s.bn_eps
    # Start the backbone from a trained network (fresh start only; a resumed run restores
    # its checkpoint; mode=distill: the students'): '' = random init, else a workdir,
    # checkpoints/<step> folder or zoo name, optionally NAME@PATH to pick a model; or a
    # comma-separated list of one such source per trained model (per student, in order).
    # Grouped convs are ungrouped and a wider backbone is widened function-preservingly
    # (Net2WiderNet); the head stays random (dsiam_jax/train/init_from.py).
    m.init_from = ""
    # RPN, fresh start: the reg branch's output conv starts at its He-normal draw times
    # this (1 = the draw; default: initial deltas of the targets' size; studies/siamrpn 16).
    m.reg_init_scale = REG_INIT_SCALE
    # RPN, fresh start: the same for the cls branch's output conv. 0 with init_from a SiamFC
    # and rpn_cls_xcorr: the classifier starts as that SiamFC's response (studies/siamrpn 27).
    m.cls_init_scale = 1.0
    # Equal lowerings (speed only; 'auto' picks per backend, see dsiam_jax/models):
    m.xcorr_impl = "auto"  # 'auto' | 'vmap' | 'map' | 'shift' | 'taps'
    m.conv1_split = "auto"  # 'auto' | 0 (one conv) | N (conv1 outputs in chunks of N)
    m.conv1_s2d = "auto"  # 'auto' | 'on' | 'off': conv1 as a stride-1 conv on 2x2 pixel blocks
    # 'auto' | 'on' | 'off': 3x3 stride-1 convs by Winograd F(2x2, 3x3) in training steps
    # ('auto': never at training batches); trackers take 'auto' (batch-1 CPU search convs).
    m.winograd = "auto"
    # 'auto' | 'ynn' | 'eigen': XLA:CPU's kernels for convs and dots (YNNPACK, XLA's
    # default, or Eigen); 'auto': YNNPACK at training batches, Eigen for batch-1 calls.
    m.conv_library = "auto"
    return m


def data_config() -> ml_collections.ConfigDict:
    """Training pairs: which datasets, crops and augmentation (SPEC sections 2, 6, 8).

    Pairs are sampled i.i.d. per example from a generator keyed by (seed, example
    index), so batch k depends only on (seed, k, this section): no shuffle buffer,
    and a restarted run sees exactly the batches of an uninterrupted one.
    """
    d = ml_collections.ConfigDict()
    # Dataset layout: synthetic (generated, no download) | got10k | lasot | trackingnet |
    # imagenet_vid | otb | folder (ROOT/<seq>/{frames or img/, groundtruth.txt}).
    d.layout = "synthetic"
    d.root = ""  # dataset root folder in its official layout (unused for synthetic)
    # Split: got10k train|val|test; lasot train|test|all; trackingnet train|TRAIN_<k>|test;
    # imagenet_vid train|val; otb all|otb2013|otb2015|tb50; synthetic train|val|test.
    d.split = "train"
    # Several datasets with sampling weights: "layout[/split]:root:weight,...", e.g.
    # "got10k:/data/got10k:2,lasot/train:/data/lasot:1,synthetic::0.5". Overrides
    # layout/root/split when set.
    d.mixture = ""
    # Read prepared TFDS records (`python -m data_pipelines.prepare_tfds`) instead of
    # parsing the annotation folders; frames are still read from `root`.
    d.use_tfds = False
    d.tfds_data_dir = ""  # where the records were prepared ('' = ~/tensorflow_datasets)
    d.template_size = 127  # template crop side, pixels
    d.search_size = 255  # search crop side, pixels
    d.context = 0.5  # template side sqrt((w+p)(h+p)), p = context * (w+h)
    d.max_gap = 100  # max frames between template and search
    d.negative_prob = 0.0  # fraction of negative pairs (RPN recipes use 0.2)
    d.min_box_size = 2.0  # boxes narrower or lower than this (pixels) are not sampled
    d.max_aspect_ratio = 10.0  # boxes with max(w/h, h/w) above this are not sampled; 0 = off
    d.max_attempts = 32  # re-draws past unreadable frames before an example fails
    # Decode a JPEG at 1/2, 1/4 or 1/8 scale (libjpeg DCT scaling) when both its crops
    # shrink it at least that much: 2-3x faster on large frames, and antialiased.
    d.decode_reduce = True
    # How pairs are made: 'graph' (TensorFlow ops: stateless draws, tf.io.decode_jpeg;
    # its makers run without the GIL), 'python' (NumPy sampler in tf.numpy_function;
    # the only one for in-memory frames, layout synthetic) or 'auto' (graph when every
    # frame is a file). The two draw different random numbers: same seed, other pairs.
    d.pipeline = "auto"
    d.num_parallel_calls = -1  # parallel pair makers; -1 = tf.data.AUTOTUNE
    d.num_threads = 0  # tf.data private thread pool size; 0 = TensorFlow's default
    d.prefetch = 2  # batches prepared ahead; -1 = AUTOTUNE
    d.augment = ml_collections.ConfigDict()
    d.augment.template_scale = 0.05  # template side x U(1 - s, 1 + s)
    d.augment.search_scale = 0.18  # search side x U(1 - s, 1 + s)
    d.augment.template_shift = 4  # template centre shift, U(-s, s) crop pixels per axis
    d.augment.search_shift = 64  # search centre shift, U(-s, s) crop pixels per axis
    d.augment.color = 0.1  # brightness, contrast x U(1 - c, 1 + c); saturation x U(1 - 2c, 1 + 2c)
    d.augment.blur_prob = 0.05  # per crop: Gaussian blur, sigma U(0.3, 1.5)
    d.augment.gray_prob = 0.05  # per pair: both crops grayscale
    d.augment.flip_prob = 0.05  # per pair: both crops mirrored left-right (box follows)
    # Synthetic data (layout=synthetic), generated on the fly from the photographs in
    # the scikit-image / scikit-learn wheels; a pure function of these fields.
    d.synthetic = ml_collections.ConfigDict()
    d.synthetic.num_sequences = 64  # sequences per split
    d.synthetic.sequence_length = 40  # frames per sequence
    d.synthetic.frame_size = (320, 240)  # (width, height)
    d.synthetic.seed = 0  # which scenes (independent of config.seed, which drives sampling)
    d.synthetic.write_splits = ("train", "val", "test")  # splits mode=write_synthetic writes
    return d


def train_config() -> ml_collections.ConfigDict:
    """Optimiser and loop of mode=train / mode=distill (SPEC section 6; dsiam_jax/train)."""
    t = ml_collections.ConfigDict()
    # The optimiser: the fields of `OptimSettings`, with its defaults (documented in
    # dsiam_jax/train/settings.py): num_steps, lr_start, lr_end, warmup_steps, momentum,
    # weight_decay, grad_clip, ema_decay, backbone_lr_scale, frozen_convs, reg_lr_scale,
    # cls_lr_scale.
    t.update(dataclass_defaults(OptimSettings))
    t.batch_size = 8  # GLOBAL pairs per step; split over devices and processes
    t.checkpoint_every = 200  # steps between checkpoints (one is also written at the end)
    t.log_every = 20  # steps between metric writes (means over the interval)
    t.max_to_keep = 3  # checkpoints kept; 0 = all
    t.num_devices = 0  # devices of the data mesh; 0 = all (multi-host: all)
    # Precision of the networks' convs and activations (teacher and students):
    # float32 | bfloat16. Parameters, BatchNorm statistics, losses and the optimiser
    # stay float32. Measured speed: benchmarks/results/train_step.json.
    t.compute_dtype = "float32"
    # BatchNorm of trained models: statistics over the global batch (cross-device, so
    # the maths does not depend on the device count) or per device (False; running
    # averages are then averaged over devices).
    t.sync_batchnorm = True
    # Where batches come from: 'pipeline' (data_pipelines.pairs from config.data) or
    # 'toy' (on-device synthetic pairs; no dataset, no TensorFlow; tests/benchmarks).
    t.input = "pipeline"
    # mode=train: name and role of the saved model (the name becomes the result folder
    # in evaluation; '' = the model kind, e.g. 'siamfc'); role: teacher | student | model.
    t.model_name = ""
    t.model_role = "model"
    # Stop this process after this many steps of the run, without a final checkpoint, as
    # if it were killed there (0 = off); the same command resumes from the last checkpoint.
    t.exit_after_steps = 0
    return t


def loss_config() -> ml_collections.ConfigDict:
    """Ground-truth losses (SPEC section 2; dsiam_jax/train/targets.py, losses.py).

    The fields and their defaults are `LossSettings` (documented in
    dsiam_jax/train/settings.py): siamfc_radius, siamfc_distance, rpn_pos_iou,
    rpn_neg_iou, rpn_num_samples, rpn_max_pos, rpn_neg_pair_radius, rpn_neg_pair_samples,
    rpn_cls_balanced, rpn_loc_weight, rpn_smooth_l1_beta, rpn_reg_form, rpn_rank_weight,
    rpn_center_weight.
    """
    return ml_collections.ConfigDict(dataclass_defaults(LossSettings))


def teacher_config() -> ml_collections.ConfigDict:
    """The frozen teacher of mode=distill (its checkpoint records its architecture)."""
    t = ml_collections.ConfigDict()
    t.checkpoint = ""  # workdir (or checkpoints/<step> folder, or zoo name) of the teacher
    t.name = ""  # model in that checkpoint; '' = the only one, or the one with role teacher
    return t


def distill_config() -> ml_collections.ConfigDict:
    """Students and the distillation / sharing losses (SPEC sections 4, 5).

    Student i's loss: gt + lambda_cls * soft + lambda_reg * bound + lambda_hint * hint
    + gamma * share. A weight of 0 switches a term off (it is then not computed).
    """
    d = ml_collections.ConfigDict()
    # One channel list per student (saved as student_0, student_1, ...); every student
    # shares the teacher's kind, head and anchors. SiamFC widths must be even (groups).
    d.students = ((24, 64, 96, 96, 64), (24, 64, 96, 96, 64))
    d.student_head_channels = 0  # RPN head width of students; 0 = their channels[-1]
    # A student.py written by mode=student_search (configs/student_search.py): its
    # channel list (and RPN head width) replaces every student's widths above; '' = off.
    d.students_from = ""
    # The loss weights, temperatures and forms: the fields of `DistillSettings`, with
    # its defaults (documented in dsiam_jax/train/settings.py): lambda_cls, lambda_reg,
    # lambda_hint, temperature, beta, rho, margin, soft_form, soft_balanced, share,
    # gamma, alpha, share_temperature, share_reg_weight.
    d.update(dataclass_defaults(DistillSettings))
    # Teacher-output cache (dsiam_jax/train/teacher_cache.py): the frozen teacher's
    # outputs per training example, stored the first time they are computed and read by
    # every later run on the same examples, whose steps then run only the students.
    # Keyed by a hash of the teacher's weights, the data fields, train.input, seed and
    # batch size (another teacher or data gets its own subfolder). Same results as
    # 'off', which runs the teacher inside every step.
    #   'auto': mode=pipeline / ablation share one cache per run folder
    #   (WORKDIR/teacher_cache) across all their distillation runs; a standalone
    #   distill run uses WORKDIR/teacher_cache (resume, longer runs) unless it would
    #   exceed 8 GB (RPN or hint caches of long runs), then runs the teacher in the step.
    #   A folder: that cache, whatever its size (SiamFC: 1.2 kB per example; SiamRPN
    #   k=5: 35 kB; with lambda_hint > 0 also the search feature, 0.5 / 1 MB for the
    #   paper's SiamFC / SiamRPN teachers).
    d.teacher_cache = "auto"  # 'off' | 'auto' | a folder
    return d


def tracker_config() -> ml_collections.ConfigDict:
    """Inference settings (SPEC section 2, Tracking; see dsiam_jax/tracking).

    `siamfc` and `siamrpn` are built from the defaults of `SiamFCConfig` and
    `SiamRPNConfig` (their fields are documented in dsiam_jax/tracking/siamfc.py and
    siamrpn.py): template_size, search_size, context, min_size; SiamFC's num_scales,
    scale_step, scale_penalty, scale_lr, window_influence, response_up; SiamRPN's
    penalty_k, window_influence, lr, center (where the box centre comes from),
    response_up (center=upsampled), score_map (what the window is mixed with),
    aspect_rate (the share of each size update's aspect-ratio change kept), num_scales,
    scale_step, scale_penalty (SiamFC's scale pyramid: 3 crops by default, 1 = pysot's).
    """
    t = ml_collections.ConfigDict()
    t.siamfc = ml_collections.ConfigDict(dataclass_defaults(SiamFCConfig))
    t.siamrpn = ml_collections.ConfigDict(dataclass_defaults(SiamRPNConfig))
    # Speed only (same boxes): SiamFC's search crops as a lax.map loop ('map'), one
    # batch ('batch'), or 'auto' (map on CPU, batch on accelerators).
    t.scales_impl = "auto"
    return t


def eval_config() -> ml_collections.ConfigDict:
    """Benchmark evaluation for mode=evaluate (SPEC section 7; see dsiam_jax/evaluation)."""
    e = ml_collections.ConfigDict()
    e.layout = "got10k"  # got10k | lasot | otb | trackingnet | vot | folder | synthetic
    e.root = ""
    e.split = ""
    e.max_sequences = 0  # 0 = all
    # Many sequences at once (scan over frames, vmap / map over sequences) instead of
    # the one-sequence loop; same boxes, per-frame times are then batch averages.
    e.batched = False
    e.batch_size = 8  # sequences per batch
    e.chunk = 8  # frames per device call in batched runs
    e.batch_impl = "auto"  # auto | map | vmap (auto: map on CPU, vmap on accelerators)
    e.network_repeats = 10  # timed calls for network-only frames/s (0 = skip)
    e.plots = True  # success / precision PNGs
    # 'ope': one pass from the first box (success, precision, GOT-10k AO); 'vot': the
    # VOT2016-2019 reset protocol (re-initialised 5 frames after each failure; eval.json
    # holds eao, accuracy, robustness, failures per tracker; dsiam_jax/evaluation/vot.py).
    e.protocol = "ope"
    # Whose rules score the OTB-style numbers (success AUC, precision, normalised
    # precision) under protocol=ope: got10k | pysot | pytracking | lasot (frames counted,
    # denominators, first frame; dsiam_jax/evaluation/metrics.py). GOT-10k AO/SR are fixed.
    e.convention = "got10k"
    # protocol=vot: EAO sequence-length interval 'low,high' ('' = derived from the
    # sequence lengths as the VOT toolkit does; VOT2016 '108,371', VOT2017-2019 '100,356').
    e.eao_interval = ""
    # Also zip the results in the layout a test server takes: '' | got10k (GOT-10k test
    # server) | trackingnet (TrackingNet server); dsiam_jax/evaluation/server_zip.py.
    e.package = ""
    return e


def pipeline_config() -> ml_collections.ConfigDict:
    """mode=pipeline (dsiam_jax/jobs/pipeline.py): teacher, distilled students,
    a from-scratch student, evaluation and report.md, in one resumable run."""
    p = ml_collections.ConfigDict()
    # 'laptop': the sizes below, chosen to finish in about 20 minutes on a 2-core CPU;
    # 'full': config.model (teacher), config.distill.students, config.train and the
    # data crop sizes as they are (the paper's sizes).
    p.size = "laptop"
    p.student_steps = 0  # full size: steps of the student runs; 0 = train.num_steps
    p.eval_split = "test"  # synthetic split written as a GOT-10k folder and evaluated
    # sequences of it evaluated (0 = all: data.synthetic.num_sequences / 4 for test; more
    # than that writes more test scenes, the first ones the same). 48: the report's paired
    # comparisons need >= 32 sequences to resolve differences of about 0.05 AUC (16 gave a
    # standard error of 0.04); costs about 90 s more than 16 on 2 cores.
    p.eval_sequences = 48
    p.laptop = ml_collections.ConfigDict()
    p.laptop.teacher_channels = (48, 128, 192, 192, 128)
    p.laptop.student_channels = (16, 32, 48, 48, 32)
    p.laptop.num_students = 2
    p.laptop.template_size = 127
    p.laptop.search_size = 255
    p.laptop.batch_size = 8
    p.laptop.teacher_steps = 400
    p.laptop.student_steps = 300
    # The learning rates decay from train.lr_start to these (train.lr_end, 1e-5, is the
    # recipe of runs of tens of thousands of steps): over a few hundred steps the 1e-2 ->
    # 1e-5 decay leaves most steps below 1e-3. Students trained so score about 0.05
    # success AUC lower (studies/distillation/README.md section 6); a teacher of 400
    # steps decaying to 1e-3 tracks as well as one of 600 decaying to 1e-5, and so do
    # the students distilled from it (section 9).
    p.laptop.teacher_lr_end = 1e-3
    p.laptop.student_lr_end = 1e-3
    return p


def distributed_config() -> ml_collections.ConfigDict:
    """Multi-host start-up; 'auto' initialises when a cluster is detected. How a
    process without accelerators splits its cores into devices."""
    d = ml_collections.ConfigDict()
    d.initialize = "auto"  # auto | yes | no
    d.coordinator_address = ""
    d.num_processes = 0
    d.process_id = -1
    # XLA:CPU devices of a host without accelerators (the data mesh runs one slice of
    # the batch on each); 0 = auto: one per core, as many as divide the per-process
    # batch and leave >= 2 pairs each (2 of 4 pairs on a 2-core laptop: distillation
    # steps 1.07-1.21x as fast; dsiam_jax/parallel.py). Set before JAX starts; an explicit
    # XLA_FLAGS=--xla_force_host_platform_device_count wins. Float rounding only.
    d.cpu_devices = 0
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
    c.teacher = teacher_config()
    c.distill = distill_config()
    c.tracker = tracker_config()
    c.eval = eval_config()
    c.checkpoint = ""  # comma-separated workdirs or zoo names (evaluate/track/export)
    # A best_tracker.json written by mode=tune: its settings replace those of
    # config.tracker for evaluate / track ('' = config.tracker as it is).
    c.tracker_from = ""
    # Tracking network backend (mode=evaluate / track / tune): auto (the fastest float32
    # one installed: onnx on CPU when onnxruntime is there, else jax; jax where the job
    # traces the network: tune, eval.batched; dsiam_jax/tracking/network.py) | jax |
    # jax_bf16 (convs in bfloat16) | onnx | onnx_fp16 | onnx_int8 (weight-only) |
    # onnx_qdq (int8 weights and activations); see dsiam_jax/export.
    c.backend = "auto"
    c.distributed = distributed_config()
    c.pipeline = pipeline_config()
    return c
