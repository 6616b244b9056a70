"""The SiamRPN teacher that tracks on this CPU: the SiamFC teacher's widths, started as it.

    python -m dsiam_jax.main --config=configs/siamrpn_matcher.py --workdir=W1

AlexNet 96-256-384-384-256 (ungrouped) with pysot's depth-wise RPN head of width 256
and k=5 anchors (6.25 M parameters, 25.0 MB). The recipe of studies/siamrpn/README.md
sections 27-30 (the zoo's `siamrpn_teacher`):

- **The matcher start.** `model.init_from` = the zoo's `siamfc_teacher`: the backbone
  is that SiamFC's (grouped convs ungrouped), and with `model.rpn_cls_xcorr` (SiamFC's
  correlation of the features added to the foreground logits), `cls_init_scale=0` and
  no BatchNorm after conv5, every anchor's foreground log-odds start as its response.
  Only the regression starts untrained.
- **512 training scenes** (`data.synthetic.num_sequences`): on 64 the RPN memorises
  its scenes where SiamFC does not (section 28); on a real dataset set its layout.
- The backbone at a tenth of the rate (`train.backbone_lr_scale`, pysot's rule for a
  pretrained backbone), 2,000 steps of batch 8, rate 5e-3 after 50 warm-up steps,
  decaying to 1e-3; ranking loss weight 1, regression head started at a tenth.
- conv1-3 fixed (`train.frozen_convs=3`, pysot's AlexNet rule: only conv4-5 train),
  since section 34: a step 2.1 times faster here (0.64 of a SiamFC teacher step), the
  same tracking within noise (2,000 steps: 0.603 against 0.606 with the whole backbone
  trained, -0.003 +- 0.008 paired on 256 test sequences; 1,000 steps: -0.006 +- 0.008).
  The zoo's `siamrpn_teacher` was trained before, with `--config.train.frozen_convs=0`.
- The regression tower at ten times the rate (`train.reg_lr_scale=10`), since section
  38: the output conv starts at a tenth, which under SGD slows the convs before it as
  much; +0.025 +- 0.005 at 1,000 steps on two seeds (0.584 / 0.571 against 0.574 /
  0.530), and the two seeds much closer. The zoo's model and the numbers below predate it.

With the tracker's one search crop (`tracker.siamrpn.num_scales=1`, the default until
section 42), this recipe (seed 1) tracks 256 synthetic test sequences at
0.603 success AUC against the SiamFC teacher's 0.591 (+0.013 +- 0.013, section 34),
after about 35 minutes alone on a 2-core CPU (75 with the whole backbone trained).
That is one seed: on 1,000 steps, seeds 1 and 2 track at 0.574 and 0.530 (section 37),
on 2,000 seed 2 at 0.558 (section 38). With the regression tower's rate, 1,000 steps
(about SiamFC's own training time) track 0.014 +- 0.011 below the SiamFC teacher over
two seeds a side (section 38). With the default tracker's three crops (section 42) those
1,000 steps track at 0.615 / 0.592 / 0.628 on three seeds, and the zoo's teacher
(2,000 steps, whole backbone) at 0.636, 0.045 +- 0.012 above the SiamFC teacher.
Distil students from it with `configs/dstrpn_matcher.py`.
"""

from configs import siamrpn_teacher


def get_config():
    config = siamrpn_teacher.get_config()
    m = config.model
    m.head = "depthwise"
    m.channels = (96, 256, 384, 384, 256)
    m.head_channels = 256
    m.init_from = "siamfc_teacher"
    m.rpn_cls_xcorr = True
    m.cls_init_scale = 0.0
    m.final_bn = False
    m.reg_init_scale = 0.1
    config.loss.rpn_rank_weight = 1.0
    config.loss.rpn_neg_pair_radius = 3
    config.data.synthetic.num_sequences = 512
    t = config.train
    t.num_steps = 2_000
    t.warmup_steps = 50
    t.lr_start = 5e-3
    t.lr_end = 1e-3
    t.backbone_lr_scale = 0.1
    t.frozen_convs = 3
    t.reg_lr_scale = 10.0
    t.checkpoint_every = 250
    t.max_to_keep = 0
    return config
