"""Inference on ONNX Runtime: no Keras or TensorFlow imports here."""
