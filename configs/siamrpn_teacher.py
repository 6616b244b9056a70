"""Train the SiamRPN teacher (big AlexNet 192-512-768-768-512, up-channel head, k=5).

    python -m dsiam_jax.main --config=configs/siamrpn_teacher.py --workdir=W1 \
        --config.model.init_from=siamfc_teacher

The paper's 361.8 MB teacher. Recipe (pysot's RPN training): SGD momentum 0.9,
weight decay 1e-4, gradient clipping at global norm 10, batch 8 (global), 20%
negative pairs (each labels 16 anchors negative within 3 cells of the object its
search crop shows, `loss.rpn_neg_pair_radius`); the learning rate warms up linearly
to 5e-3 over the first quarter of the run (pysot: 5 of 20 epochs, from 1e-3; here
from 5e-3 / warmup_steps), then decays log-linearly to 5e-4. `train.warmup_steps`
follows `train.num_steps` (a quarter of it) unless set. 100k steps of batch 8 is
800k pairs (pysot sees more: scale num_steps with your data).

How the run starts: `model.init_from` fills the backbone from a trained network
(above: the zoo's SiamFC teacher, 96-256-384-384-256 with grouped convs; any
checkpoint workdir or zoo name works). Its grouped convs are ungrouped and each
layer is widened 2x function-preservingly (Net2WiderNet), so at step 0 the
192-512-768-768-512 backbone computes the trained SiamFC features (each channel
twice) and only the up-channel head is random; see dsiam_jax/train/init_from.py.
The default ('') starts everything random. pysot starts from an ImageNet-pretrained
AlexNet, which this library does not ship; a trained SiamFC teacher stands in. With
`--config.model.rpn_cls_xcorr=True --config.model.cls_init_scale=0
--config.model.final_bn=False` the classifier starts as that SiamFC's response too, and
`--config.train.backbone_lr_scale` (0 = frozen) slows the backbone; at the SiamFC
teacher's widths (depth-wise head) this started faster (+0.053 AUC at 500 steps) but
tracked at 0.48 after 1,000 steps (studies/siamrpn/README.md section 27). The RPN
memorises 64 synthetic training scenes where SiamFC does not (section 28: 0.11-0.17
higher AUC on its training scenes than on the test scenes): train it on more
(`--config.data.synthetic.num_sequences=512`) with `--config.train.backbone_lr_scale=0.1`
(pysot's pretrained-backbone rule), which tracked at 0.536 after 1,000 steps.

The reg branch's output conv starts at a tenth of its He-normal draw
(`model.reg_init_scale`, default 0.1; studies/siamrpn/README.md section 16): with the
full draw this network's initial box deltas have standard deviation about 4 against
targets of 0.1-0.5, and over 40 steps from the SiamFC teacher its regression term rose
(14 -> 19); with 0.1 it falls (over 100 steps, 25-step means 1.40 -> 0.52, the total
7.6 -> 4.9); the cls term falls in the first 10 steps only (2.4 -> 1.5, then 1.8-2.2).

The up-channel head's template convs multiply their output by a fixed 1/sqrt(16 C)
(in the forward pass, like SiamFC's out_scale; issue 14: as an initialisation-only
scale it left the gradients unscaled and the head diverged). At width
16-32-32-32-32 from random weights (toy pairs, 127/191 crops, this recipe, 60
steps) the loss means over 10-step windows now go 6.1, 7.0, 5.7, 4.0, 3.4, 3.5
(regression term 3.6 -> 1.7; first-step gradient norm 71), where the init-only
scale gave 7.2, 18.4, 17.1, 12.9, 8.8, 8.8 (single batches up to 43; gradient
norm 309). The depth-wise head (`--config.model.head=depthwise`) trains from
scratch too (zoo/build.sh).

Saved as `siamrpn_teacher` (role teacher); `configs/dstrpn.py` distils it.
"""

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "train"
    config.model = default.model_config("siamrpn", "upchannel")
    config.model.init_from = ""  # e.g. --config.model.init_from=siamfc_teacher
    config.data.negative_prob = 0.2
    # The ranking term (studies/siamrpn/README.md section 6): without it the classifier
    # learns a template-blind objectness map; with it, +0.056 success AUC (2 seeds).
    config.loss.rpn_rank_weight = 1.0
    t = config.train
    t.num_steps = 100_000
    t.lr_start = 5e-3
    t.lr_end = 5e-4
    t.warmup_steps = t.get_ref("num_steps") // 4
    t.weight_decay = 1e-4
    t.grad_clip = 10.0
    t.checkpoint_every = 1_000
    t.log_every = 50
    t.model_name = "siamrpn_teacher"
    t.model_role = "teacher"
    return config
