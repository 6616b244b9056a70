"""Deployment: ONNX / TFLite export, onnxruntime inference, PyTorch checkpoint import.

The jobs that use them are `dsiam_jax.jobs.export` (mode=export) and
`dsiam_jax.jobs.import_torch` (mode=import_torch). Modules (`fold` and
`torch_import` need neither onnx nor onnxruntime; torch is needed only to read a
.pth file; TensorFlow only by `tflite_export`, imported inside its functions):

- `fold`: checkpoint variables -> BatchNorm-folded OIHW weights (`FoldedNet`).
- `onnx_graphs`: `template_graph` / `track_graph` ONNX protos from a `FoldedNet`
  (fp32, fp16- or int8-stored weights); their input/output names and layouts.
- `quantize`: the statically quantised int8 'qdq' variant.
- `runtime`: `OnnxNetwork` (onnxruntime sessions, 2 threads by default).
- `checks`: JAX reference calls, parity (max abs / rel difference), timing.
- `samples`: random and real-photograph crops for checks and calibration.
- `onnx_backend`: the tracker's onnxruntime network (`config.backend='onnx'`,
  'onnx_fp16', 'onnx_int8', 'onnx_qdq'; registered in `tracking.network.BACKENDS`).
- `tracking_check`: JAX vs onnxruntime trackers on the synthetic test split.
- `tflite_export`: optional TFLite graphs (imports TensorFlow lazily).
- `torch_import`: pysot / siamfc-pytorch state_dicts -> dsiam_jax variables.
"""
