"""mode=import_torch: turn a PyTorch tracker checkpoint into a dsiam_jax checkpoint.

    python -m dsiam_jax.main --config=configs/import_torch.py \
        --config.torch_checkpoint=model.pth --config.torch_format=pysot_alexnet --workdir=W7

Formats (dsiam_jax/export/torch_import.py): 'pysot_alexnet' (pysot
siamrpn_alex_dwxcorr, BGR input: conv1 is flipped to RGB), 'siamfc_alexnet'
(siamfc-pytorch AlexNetV1 + SiamFC head, RGB), 'dasiamrpn_big' (DaSiamRPN's
SiamRPNBIG.model: the paper's 361.8 MB up-channel teacher, BGR -> flipped; our
SiamRPN tracker defaults are its settings: search 271, lr 0.295, window 0.42,
penalty 0.055) and 'dasiamrpn' (the same layout at any width: SiamRPNVOT.model /
SiamRPNOTB.model, whose settings are lr 0.45 / 0.30, window_influence 0.44 / 0.40,
penalty_k 0.04 / 0.22 under --config.tracker.siamrpn.*). DaSiamRPN's window rule is
--config.tracker.siamrpn.score_map=probability (ours defaults to 'normalized'), its
centre and size rules center=regression and aspect_rate=1, and its single search crop
num_scales=1 (ours: upsampled, 0, 3); its
switch to a 287 search for targets under 0.4% of the frame is not reproduced. The
result is used like any checkpoint: `--config.checkpoint=W7` (evaluate / track /
export) or `--config.teacher.checkpoint=W7` (distillation). Reading .pth files needs
torch.
"""

from __future__ import annotations

import ml_collections

from configs import default


def get_config() -> ml_collections.ConfigDict:
    c = default.get_config()
    c.mode = "import_torch"
    c.torch_checkpoint = ""  # path of the .pth file (a state_dict)
    c.torch_format = "pysot_alexnet"  # pysot_alexnet | siamfc_alexnet | dasiamrpn_big | dasiamrpn
    c.torch_role = "teacher"  # role recorded in the checkpoint: teacher | student | model
    c.torch_name = ""  # model name in the checkpoint; '' = the role
    c.torch_step = 0  # checkpoint step number written
    return c
