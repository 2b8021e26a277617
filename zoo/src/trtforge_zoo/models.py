"""Small, reproducible test models: the four seed models and a classifier trained on real data.

The user's seed documents describe four models that older TensorRT tool chains failed on
(model1..model4). They are rebuilt here at call time with seeded random weights (no
downloads), small enough for CPU tests, so every route, ``compare`` and the demo exercise the
same graphs. ``digits_classifier`` trains a tiny CNN on scikit-learn's bundled digits so that
reduced-precision accuracy can be measured on a real dataset.

Every function returns a :class:`ZooModel`: the model (a path or an in-memory object), its
kind (as ``trtforge.models.sources`` names it), input/output names and shapes, the layout, an
example input and ``reference(x)``, which runs the source framework. Heavy frameworks are
imported inside the functions only.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np


@dataclass(frozen=True)
class TensorMeta:
    """One model input or output as the source framework names it (``None`` = any size)."""

    name: str
    shape: tuple[int | None, ...]
    dtype: str = "float32"


@dataclass
class ZooModel:
    """A zoo model plus what a test or demo needs to convert and check it."""

    name: str
    model: Any
    kind: str
    framework: str
    layout: str
    inputs: tuple[TensorMeta, ...]
    outputs: tuple[TensorMeta, ...]
    example: np.ndarray
    reference: Callable[[np.ndarray], np.ndarray]
    path: Path | None = None
    description: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """The example input's shape (batch included)."""
        return tuple(int(d) for d in self.example.shape)


def _directory(directory: str | Path | None, name: str) -> Path:
    root = Path(directory) if directory is not None else Path(tempfile.mkdtemp(prefix="trtforge-zoo-"))
    root.mkdir(parents=True, exist_ok=True)
    return root


def _example(shape: tuple[int, ...], seed: int, dtype: str = "float32") -> np.ndarray:
    rng = np.random.default_rng(seed)
    if dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.standard_normal(shape).astype(dtype)


# --- model1: TF1 conv net, frozen GraphDef --------------------------------------------------
def model1_frozen_convnet(
    directory: str | Path | None = None,
    input_size: int = 32,
    num_classes: int = 10,
    channels: tuple[int, ...] = (16, 32, 64),
    seed: int = 0,
) -> ZooModel:
    """Seed model1: an "old school" TF conv net (conv/ReLU/max-pool, dense head; no concat, no
    batch norm), built with the TF1 graph API and frozen into a ``.pb`` GraphDef."""
    import tensorflow as tf

    v1 = tf.compat.v1
    graph = tf.Graph()
    with graph.as_default():
        v1.set_random_seed(seed)
        x = v1.placeholder(tf.float32, (None, input_size, input_size, 3), name="input")
        h, c_in = x, 3
        init = v1.glorot_uniform_initializer(seed=seed)
        for i, c_out in enumerate(channels):
            with v1.variable_scope(f"conv{i + 1}"):
                w = v1.get_variable("weights", (3, 3, c_in, c_out), initializer=init)
                b = v1.get_variable("biases", (c_out,), initializer=v1.random_normal_initializer(
                    stddev=0.05, seed=seed + i))
                h = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(h, w, 1, "SAME"), b))
                h = tf.nn.max_pool2d(h, 2, 2, "VALID")
            c_in = c_out
        side = input_size // 2 ** len(channels)
        flat = tf.reshape(h, (-1, side * side * c_in), name="flatten")
        with v1.variable_scope("fc1"):
            w = v1.get_variable("weights", (side * side * c_in, 64), initializer=init)
            b = v1.get_variable("biases", (64,), initializer=v1.zeros_initializer())
            h = tf.nn.relu(tf.matmul(flat, w) + b)
        with v1.variable_scope("fc2"):
            w = v1.get_variable("weights", (64, num_classes), initializer=init)
            b = v1.get_variable("biases", (num_classes,), initializer=v1.zeros_initializer())
        tf.identity(tf.matmul(h, w) + b, name="logits")
        with v1.Session(graph=graph) as session:
            session.run(v1.global_variables_initializer())
            frozen = v1.graph_util.convert_variables_to_constants(
                session, graph.as_graph_def(), ["logits"])
    path = _directory(directory, "model1") / "model1_frozen.pb"
    path.write_bytes(frozen.SerializeToString())
    return ZooModel(
        name="model1", model=path, path=path, kind="tf-frozen-graph", framework="tensorflow",
        layout="NHWC",
        inputs=(TensorMeta("input:0", (None, input_size, input_size, 3)),),
        outputs=(TensorMeta("logits:0", (None, num_classes)),),
        example=_example((1, input_size, input_size, 3), seed),
        reference=lambda x: run_frozen_graph(path, {"input:0": x}, ["logits:0"])[0],
        description="TF1 conv net without concat or batch norm, frozen GraphDef",
    )


def run_frozen_graph(path: str | Path, feeds: dict[str, np.ndarray], outputs: list[str]) -> list[np.ndarray]:
    """Run a frozen GraphDef with TensorFlow (the source framework of model1)."""
    from trtforge.models.tf_graphs import canonical_tensor, pruned_function, read_graphdef, run_on_cpu

    names = list(feeds)
    function = pruned_function(read_graphdef(path), [canonical_tensor(n) for n in names],
                               [canonical_tensor(o) for o in outputs])
    return [np.asarray(r) for r in run_on_cpu(function, [feeds[n] for n in names])]


# --- model2: Keras ResNet50 with added shortcuts ----------------------------------------------
def model2_keras_resnet50(
    directory: str | Path | None = None,
    input_size: int = 32,
    num_classes: int = 10,
    seed: int = 0,
) -> ZooModel:
    """Seed model2: ``keras.applications.ResNet50`` (random weights) with added long shortcut
    connections between stages (strided 1x1 projections added to later stage outputs), saved
    as ``.keras``."""
    import keras

    keras.utils.set_random_seed(seed)
    image = keras.Input((input_size, input_size, 3), name="image")
    backbone = keras.applications.ResNet50(weights=None, include_top=False, input_tensor=image)
    stage_ends = ["conv2_block3_out", "conv3_block4_out", "conv4_block6_out", "conv5_block3_out"]
    outs = [backbone.get_layer(n).output for n in stage_ends]
    # Added shortcuts: each stage output also receives the previous stage's output, projected.
    merged = outs[0]
    for k in range(1, len(outs)):
        projected = keras.layers.Conv2D(outs[k].shape[-1], 1, strides=2, name=f"shortcut{k}_proj")(merged)
        merged = keras.layers.Add(name=f"shortcut{k}_add")([outs[k], projected])
    h = keras.layers.GlobalAveragePooling2D(name="avg_pool")(merged)
    logits = keras.layers.Dense(num_classes, name="predictions")(h)
    model = keras.Model(image, logits, name="resnet50_shortcuts")
    path = _directory(directory, "model2") / "model2_resnet50_shortcuts.keras"
    model.save(path)
    return ZooModel(
        name="model2", model=path, path=path, kind="keras-file", framework="keras", layout="NHWC",
        inputs=(TensorMeta("image", (None, input_size, input_size, 3)),),
        outputs=(TensorMeta("predictions", (None, num_classes)),),
        example=_example((1, input_size, input_size, 3), seed),
        reference=lambda x: np.asarray(model(x, training=False)),
        description="Keras ResNet50 with added stage-to-stage shortcut connections (.keras)",
        extra={"keras_model": model},
    )


# --- model3: modified ResNet50 in TF with Cast, Concat, BatchNorm, SavedModel -----------------
def _resnet50_tf_module(input_size: int, num_classes: int, width: int, seed: int) -> Any:
    import tensorflow as tf

    rng = np.random.default_rng(seed)

    class ResNet50Modified(tf.Module):
        """ResNet50 v1 bottlenecks written with raw TF ops.

        Modifications that put the seed's problem ops in the graph: the uint8 image is Cast to
        float, batch norm is ``FusedBatchNormV3`` (inference), and the head Concats global
        average and max pooling.
        """

        def __init__(self) -> None:
            super().__init__(name="resnet50_modified")
            self.params: dict[str, tuple[tf.Variable, ...]] = {}
            self._order: list[str] = []
            self.stem = self._conv_bn("stem", 7, 3, width)
            self.blocks = []
            c_in = width
            for stage, (repeats, mid) in enumerate(zip((3, 4, 6, 3), (width, width * 2, width * 4, width * 8))):
                for b in range(repeats):
                    stride = 2 if b == 0 and stage > 0 else 1
                    prefix = f"stage{stage + 2}_block{b + 1}"
                    block = {
                        "a": self._conv_bn(prefix + "_a", 1, c_in, mid),
                        "b": self._conv_bn(prefix + "_b", 3, mid, mid),
                        "c": self._conv_bn(prefix + "_c", 1, mid, mid * 4),
                        "proj": self._conv_bn(prefix + "_proj", 1, c_in, mid * 4) if b == 0 else None,
                        "stride": stride,
                    }
                    self.blocks.append(block)
                    c_in = mid * 4
            self.fc_w = tf.Variable(rng.standard_normal((2 * c_in, num_classes)).astype(np.float32)
                                    * float(np.sqrt(1.0 / (2 * c_in))), name="fc_w")
            self.fc_b = tf.Variable(np.zeros(num_classes, np.float32), name="fc_b")

        def _conv_bn(self, name: str, k: int, c_in: int, c_out: int) -> tuple[Any, ...]:
            fan_in = k * k * c_in
            w = rng.standard_normal((k, k, c_in, c_out)).astype(np.float32) * float(np.sqrt(2.0 / fan_in))
            gamma = (1.0 + 0.1 * rng.standard_normal(c_out)).astype(np.float32)
            beta = (0.1 * rng.standard_normal(c_out)).astype(np.float32)
            mean = (0.1 * rng.standard_normal(c_out)).astype(np.float32)
            var = (1.0 + 0.1 * rng.random(c_out)).astype(np.float32)
            return tuple(tf.Variable(v, name=f"{name}_{n}") for v, n in
                         ((w, "w"), (gamma, "gamma"), (beta, "beta"), (mean, "mean"), (var, "var")))

        @staticmethod
        def _apply(x: Any, p: tuple[Any, ...], stride: int = 1, relu: bool = True) -> Any:
            w, gamma, beta, mean, var = p
            y = tf.nn.conv2d(x, w, stride, "SAME")
            y, _, _ = tf.compat.v1.nn.fused_batch_norm(
                y, gamma, beta, mean=mean, variance=var, epsilon=1.001e-5, is_training=False)
            return tf.nn.relu(y) if relu else y

        @tf.function(input_signature=[tf.TensorSpec((None, input_size, input_size, 3), tf.uint8,
                                                    name="image")])
        def __call__(self, image: Any) -> Any:
            x = tf.cast(image, tf.float32) * (1.0 / 127.5) - 1.0
            x = self._apply(x, self.stem, stride=2)
            x = tf.nn.max_pool2d(x, 3, 2, "SAME")
            for block in self.blocks:
                shortcut = x
                if block["proj"] is not None:
                    shortcut = self._apply(x, block["proj"], block["stride"], relu=False)
                y = self._apply(x, block["a"], 1)
                y = self._apply(y, block["b"], block["stride"])
                y = self._apply(y, block["c"], 1, relu=False)
                x = tf.nn.relu(y + shortcut)
            pooled = tf.concat([tf.reduce_mean(x, axis=(1, 2)), tf.reduce_max(x, axis=(1, 2))], axis=-1)
            return {"logits": tf.matmul(pooled, self.fc_w) + self.fc_b}

    return ResNet50Modified()


def model3_tf_resnet50(
    directory: str | Path | None = None,
    input_size: int = 32,
    num_classes: int = 10,
    width: int = 64,
    seed: int = 0,
) -> ZooModel:
    """Seed model3: a modified ResNet50 written in TF (uint8 input Cast to float, fused batch
    norm, Concat of average and max pooling), saved as a SavedModel. ``width=64`` is ResNet50;
    smaller widths keep the same graph with fewer channels."""
    import tensorflow as tf

    module = _resnet50_tf_module(input_size, num_classes, width, seed)
    path = _directory(directory, "model3") / "model3_savedmodel"
    tf.saved_model.save(module, str(path), signatures={"serving_default": module.__call__})

    def reference(x: np.ndarray) -> np.ndarray:
        # Holds the module itself: its tf.function keeps only a weak reference to it.
        return module(tf.constant(x))["logits"].numpy()

    return ZooModel(
        name="model3", model=path, path=path, kind="tf-savedmodel", framework="tensorflow",
        layout="NHWC",
        inputs=(TensorMeta("image", (None, input_size, input_size, 3), "uint8"),),
        outputs=(TensorMeta("logits", (None, num_classes)),),
        example=_example((1, input_size, input_size, 3), seed, "uint8"),
        reference=reference,
        description="modified ResNet50 in raw TF with Cast, Concat and FusedBatchNorm (SavedModel)",
        extra={"width": width, "tf_module": module},
    )


# --- model4: torchvision ResNet50 with the 2019 flatten --------------------------------------
def _flatten_view_resnet50_class() -> type:
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()
    import torchvision

    class ResNet50ViewFlatten(torchvision.models.ResNet):
        """torchvision ResNet50 whose forward flattens with ``x.view(x.size(0), -1)`` (as in
        torchvision 0.2), the pattern that once exported as Shape->Gather->Unsqueeze->Concat->Reshape."""

        def forward(self, x: Any) -> Any:
            x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            x = self.avgpool(x)
            x = x.view(x.size(0), -1)
            return self.fc(x)

    return ResNet50ViewFlatten


def recompute_batchnorm_statistics(model: Any, batch: Any) -> None:
    """Set every BatchNorm's running statistics from one batch, so a randomly initialised
    network keeps activations in a realistic range (as training would) instead of growing
    block after block."""
    import torch

    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # cumulative average: one batch sets the statistics exactly
    model.train()
    with torch.no_grad():
        model(batch)
    for m, momentum in zip(norms, saved):
        m.momentum = momentum
    model.eval()


def set_keras_batchnorm_statistics(model: Any, batch: Any) -> None:
    """The Keras twin of :func:`recompute_batchnorm_statistics`: every BatchNormalization's
    moving statistics set from one batch (momentum 0 for one training-mode call), so a
    random-weight Keras application keeps realistic activations instead of vanishing ones."""
    import keras

    norms = [layer for layer in model._flatten_layers() if isinstance(layer, keras.layers.BatchNormalization)]
    saved = [layer.momentum for layer in norms]
    for layer in norms:
        layer.momentum = 0.0
    model(batch, training=True)
    for layer, momentum in zip(norms, saved):
        layer.momentum = momentum


def model4_torch_resnet50(
    input_size: int = 64,
    num_classes: int = 1000,
    seed: int = 0,
) -> ZooModel:
    """Seed model4: torchvision ResNet50 (random weights, BatchNorm statistics taken from a
    random batch) whose forward flattens with ``x.view(x.size(0), -1)``. NCHW, in memory."""
    import torch

    resnet_class = _flatten_view_resnet50_class()
    from torchvision.models.resnet import Bottleneck

    torch.manual_seed(seed)
    model = resnet_class(Bottleneck, [3, 4, 6, 3], num_classes=num_classes)
    generator = torch.Generator().manual_seed(seed)
    recompute_batchnorm_statistics(model, torch.randn(8, 3, input_size, input_size, generator=generator))

    def reference(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(x))).numpy()

    return ZooModel(
        name="model4", model=model, kind="torch-module", framework="torch", layout="NCHW",
        inputs=(TensorMeta("x", (None, 3, input_size, input_size)),),
        outputs=(TensorMeta("logits", (None, num_classes)),),
        example=_example((1, 3, input_size, input_size), seed),
        reference=reference,
        description="torchvision ResNet50 with forward flattening by x.view(x.size(0), -1)",
    )


SEED_MODELS: dict[str, Callable[..., ZooModel]] = {
    "model1": model1_frozen_convnet,
    "model2": model2_keras_resnet50,
    "model3": model3_tf_resnet50,
    "model4": model4_torch_resnet50,
}


# --- a classifier trained on a real dataset -----------------------------------------------
@dataclass
class Digits:
    """scikit-learn's bundled 8x8 digits, scaled to [0, 1], split into train and test."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    layout: str = "NCHW"


def load_digits_split(layout: str = "NCHW", test_fraction: float = 0.3, seed: int = 0) -> Digits:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)
    images = images[:, None, :, :] if layout == "NCHW" else images[:, :, :, None]
    x_train, x_test, y_train, y_test = train_test_split(
        images, data.target.astype(np.int64), test_size=test_fraction, random_state=seed,
        stratify=data.target)
    return Digits(x_train, y_train, x_test, y_test, layout)


def accuracy(logits: np.ndarray, labels: np.ndarray) -> float:
    return float((np.asarray(logits).argmax(axis=1) == labels).mean())


def digits_classifier(epochs: int = 10, seed: int = 0) -> ZooModel:
    """A small torch CNN trained on the digits for a few seconds (seeded, deterministic on
    CPU). ``extra`` holds the data split (``digits``) and the test accuracy (``accuracy``)."""
    from trtforge.models.compat import torch_after_tensorflow

    torch_after_tensorflow()  # torch.optim pulls in triton, which crashes after TensorFlow
    import torch
    from torch import nn

    torch.manual_seed(seed)
    digits = load_digits_split("NCHW", seed=seed)
    model = nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Linear(64, 10),
    )
    x = torch.from_numpy(digits.x_train)
    y = torch.from_numpy(digits.y_train)
    optimizer = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    # Tiny batches are slower on several threads (and the result depends on thread count).
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            order = torch.randperm(len(x), generator=generator)
            for start in range(0, len(x), 64):
                idx = order[start:start + 64]
                optimizer.zero_grad()
                loss = nn.functional.cross_entropy(model(x[idx]), y[idx])
                loss.backward()
                optimizer.step()
    finally:
        torch.set_num_threads(threads)
    model.eval()

    def reference(batch: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model(torch.from_numpy(np.ascontiguousarray(batch, dtype=np.float32))).numpy()

    return ZooModel(
        name="digits", model=model, kind="torch-module", framework="torch", layout="NCHW",
        inputs=(TensorMeta("x", (None, 1, 8, 8)),), outputs=(TensorMeta("logits", (None, 10)),),
        example=digits.x_test[:1].copy(), reference=reference,
        description="small CNN trained on scikit-learn's digits (8x8 grey images, 10 classes)",
        extra={"digits": digits, "accuracy": accuracy(reference(digits.x_test), digits.y_test)},
    )


def digits_keras_classifier(epochs: int = 10, seed: int = 0) -> ZooModel:
    """The Keras twin of :func:`digits_classifier` (NHWC), trained the same way."""
    import keras

    keras.utils.set_random_seed(seed)
    digits = load_digits_split("NHWC", seed=seed)
    model = keras.Sequential([
        keras.Input((8, 8, 1), name="x"),
        keras.layers.Conv2D(16, 3, padding="same"), keras.layers.BatchNormalization(),
        keras.layers.ReLU(),
        keras.layers.Conv2D(32, 3, padding="same"), keras.layers.BatchNormalization(),
        keras.layers.ReLU(), keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(32, 3, padding="same", activation="relu"), keras.layers.MaxPooling2D(2),
        keras.layers.Flatten(), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(10),
    ], name="digits_cnn")
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    model.fit(digits.x_train, digits.y_train, batch_size=64, epochs=epochs, verbose=0, shuffle=True)

    def reference(batch: np.ndarray) -> np.ndarray:
        return np.asarray(model(batch.astype(np.float32), training=False))

    return ZooModel(
        name="digits-keras", model=model, kind="keras-model", framework="keras", layout="NHWC",
        inputs=(TensorMeta("x", (None, 8, 8, 1)),), outputs=(TensorMeta("logits", (None, 10)),),
        example=digits.x_test[:1].copy(), reference=reference,
        description="Keras twin of the digits CNN (NHWC)",
        extra={"digits": digits, "accuracy": accuracy(reference(digits.x_test), digits.y_test)},
    )
