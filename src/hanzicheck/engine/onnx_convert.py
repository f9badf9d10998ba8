"""Keras → ONNX for our ResNet, written out layer by layer with the ``onnx`` helpers.

Why our own converter: tf2onnx pins old protobuf/TensorFlow versions, and the model uses a handful of layer
types, each a direct ONNX operator. The graph takes NHWC input like the Keras model (``image`` [N, 40, 40, 1])
and returns ``probs`` and ``embedding`` (the spec's ``model.layers[-2]`` output) from one run.
Unsupported layers fail loudly, naming the layer.
"""

from __future__ import annotations

import keras
import numpy as np
import onnx
from keras import layers
from onnx import TensorProto, helper, numpy_helper

OPSET = 17
IR_VERSION = 8  # onnxruntime-web and older runtimes read IR 8


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the odd extra pixel goes at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _Graph:
    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []

    def const(self, name: str, value: np.ndarray) -> str:
        self.inits.append(numpy_helper.from_array(np.ascontiguousarray(value, dtype=np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs) -> str:
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def _conv(g: _Graph, layer: layers.Conv2D, x: str, out: str) -> str:
    weights = layer.get_weights()
    kernel = np.transpose(weights[0], (3, 2, 0, 1))  # HWIO → OIHW
    inputs = [x, g.const(f"{layer.name}/W", kernel)]
    if layer.use_bias:
        inputs.append(g.const(f"{layer.name}/B", weights[1]))
    (kh, kw), (sh, sw) = layer.kernel_size, layer.strides
    if layer.padding == "same":
        _, h, w, _ = layer.input.shape
        top, bottom = _same_pads(h, kh, sh)
        left, right = _same_pads(w, kw, sw)
        pads = [top, left, bottom, right]
    elif layer.padding == "valid":
        pads = [0, 0, 0, 0]
    else:
        raise ValueError(f"layer {layer.name}: padding {layer.padding!r} is not supported")
    if layer.dilation_rate != (1, 1) or layer.groups != 1:
        raise ValueError(f"layer {layer.name}: dilation/groups are not supported")
    y = g.node("Conv", inputs, out if layer.activation is keras.activations.linear else f"{out}/pre",
               kernel_shape=[kh, kw], strides=[sh, sw], pads=pads)
    return _activation(g, layer, y, out)


def _activation(g: _Graph, layer, x: str, out: str) -> str:
    act = layer.activation
    if act is keras.activations.linear:
        return x
    if act is keras.activations.relu:
        return g.node("Relu", [x], out)
    if act is keras.activations.softmax:
        return g.node("Softmax", [x], out, axis=-1)
    raise ValueError(f"layer {layer.name}: activation {act.__name__!r} is not supported")


def _batch_norm(g: _Graph, layer: layers.BatchNormalization, x: str, out: str) -> str:
    channels = layer.input.shape[-1]
    gamma = layer.gamma.numpy() if layer.scale else np.ones(channels)
    beta = layer.beta.numpy() if layer.center else np.zeros(channels)
    params = [
        g.const(f"{layer.name}/{k}", v)
        for k, v in (("scale", gamma), ("bias", beta), ("mean", layer.moving_mean.numpy()),
                     ("var", layer.moving_variance.numpy()))
    ]
    return g.node("BatchNormalization", [x, *params], out, epsilon=float(layer.epsilon))


def _dense(g: _Graph, layer: layers.Dense, x: str, out: str) -> str:
    weights = layer.get_weights()
    inputs = [x, g.const(f"{layer.name}/W", weights[0].T)]
    if layer.use_bias:
        inputs.append(g.const(f"{layer.name}/B", weights[1]))
    linear = layer.activation is keras.activations.linear
    y = g.node("Gemm", inputs, out if linear else f"{out}/pre", transB=1)
    return _activation(g, layer, y, out)


def _layer(g: _Graph, layer, ins: list[str], out: str) -> str:
    if isinstance(layer, layers.Conv2D):
        return _conv(g, layer, ins[0], out)
    if isinstance(layer, layers.BatchNormalization):
        return _batch_norm(g, layer, ins[0], out)
    if isinstance(layer, layers.ReLU):
        if layer.max_value is not None or layer.negative_slope or layer.threshold:
            raise ValueError(f"layer {layer.name}: only plain ReLU is supported")
        return g.node("Relu", ins, out)
    if isinstance(layer, layers.Activation):
        return _activation(g, layer, ins[0], out)
    if isinstance(layer, layers.Add):
        return g.node("Sum", ins, out)
    if isinstance(layer, layers.GlobalAveragePooling2D):
        pooled = g.node("GlobalAveragePool", ins, f"{out}/nchw")
        return g.node("Flatten", [pooled], out, axis=1)
    if isinstance(layer, layers.Dense):
        return _dense(g, layer, ins[0], out)
    if isinstance(layer, layers.Dropout):
        return ins[0]  # identity at inference
    raise ValueError(f"layer {layer.name} ({type(layer).__name__}) has no ONNX conversion")


def keras_to_onnx(model: keras.Model) -> onnx.ModelProto:
    """Convert the classifier; outputs ``probs`` (the model's output) and ``embedding`` (``layers[-2]``)."""
    g = _Graph()
    size = model.input.shape[1:3]
    names: dict[int, str] = {id(model.input): g.node("Transpose", ["image"], "image_nchw", perm=[0, 3, 1, 2])}
    for layer in model.layers:
        if isinstance(layer, layers.InputLayer):
            continue
        ins = layer.input if isinstance(layer.input, list) else [layer.input]
        names[id(layer.output)] = _layer(g, layer, [names[id(t)] for t in ins], f"{layer.name}/out")
    emb_name = names[id(model.layers[-2].output)]
    probs_name = names[id(model.output)]
    g.node("Identity", [emb_name], "embedding")
    g.node("Identity", [probs_name], "probs")
    graph = helper.make_graph(
        g.nodes,
        model.name,
        [helper.make_tensor_value_info("image", TensorProto.FLOAT, ["N", size[0], size[1], 1])],
        [
            helper.make_tensor_value_info("probs", TensorProto.FLOAT, ["N", model.output.shape[-1]]),
            helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["N", model.layers[-2].output.shape[-1]]),
        ],
        g.inits,
    )
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hanzicheck")
    proto.ir_version = IR_VERSION
    onnx.checker.check_model(proto)
    return proto
