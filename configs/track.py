"""Track one video or folder of frames, headless (mode=track).

    python -m dsiam_jax.main --config=configs/track.py --config.checkpoint=W2 \
        --config.video=clip.mp4 --config.init_box="(x,y,w,h)" --workdir=W4

Writes W4/tracks/<model>.txt (x,y,w,h per frame), W4/tracks/<model>.csv (frame,
x, y, w, h, score), W4/annotated.mp4 (or .gif) with every model's box and score
drawn, and W4/track.json (frames, frames/s, paths). See dsiam_jax/tracking/video.py.
"""

import ml_collections

from configs import default


def get_config():
    config = default.get_config()
    config.mode = "track"
    config.video = ""  # video file (mp4, avi, mov, mkv, gif, ...) or a folder of frames
    config.init_box = ""  # "(x,y,w,h)" in frame-1 pixels; "" = the folder's groundtruth[.txt]
    config.output = ml_collections.ConfigDict()
    config.output.format = "auto"  # auto (mp4 if PyAV can encode, else gif) | mp4 | gif | none
    config.output.fps = 0.0  # frames/s of the annotated video; 0 = the source's (or 25)
    config.output.max_side = 960  # annotated frames are shrunk to this longest side; 0 = off
    config.max_frames = 0  # 0 = all frames
    return config
