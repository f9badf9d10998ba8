"""Training past one process with TensorFlow's own tf.distribute: the cluster from ``TF_CONFIG``, the strategy, the
per-worker data pipeline, and two work-arounds Keras 3 needs under ``MultiWorkerMirroredStrategy``.

- ``TF_CONFIG`` (the standard cluster description) with more than one task → ``MultiWorkerMirroredStrategy``;
  else several GPUs → ``MirroredStrategy``; else no distribution (the plain single-process path).
- ``--batch-size`` is per replica: the global batch is batch × replicas, and the learning rate is scaled by the
  number of replicas (linear scaling), both printed at start.
- Every input pipeline (one per worker) renders its own batches: pipeline p of P renders batches p, p + P, p + 2P …
  of the single-process stream, so no two workers render the same samples and the union is the same stream.
- The chief (task ``chief``, else worker 0) writes the run folder; the other workers only print their log.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

STRATEGIES = ("auto", "default", "mirrored", "multi-worker")


class ClusterError(ValueError):
    """TF_CONFIG, --strategy or a setting cannot make a cluster run."""


@dataclass(frozen=True)
class Cluster:
    """This process's place in the cluster that ``TF_CONFIG`` describes (one worker, the chief, without it)."""

    workers: int = 1  # tasks that train (chief + workers)
    rank: int = 0  # 0 for the chief
    chief: bool = True
    configured: bool = False  # TF_CONFIG was set


def cluster_from_env(environ: dict | None = None) -> Cluster:
    """Parse ``TF_CONFIG``; ClusterError naming it when it is not a usable cluster description."""
    raw = (os.environ if environ is None else environ).get("TF_CONFIG", "").strip()
    if not raw:
        return Cluster()
    try:
        config = json.loads(raw)
        cluster, task = config["cluster"], config["task"]
        kind, index = task["type"], int(task["index"])
        chiefs, workers = list(cluster.get("chief", [])), list(cluster.get("worker", []))
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ClusterError(f"TF_CONFIG is not a cluster description ({type(e).__name__}: {e}); expected "
                         '{"cluster": {"worker": ["host:port", ...]}, "task": {"type": "worker", "index": 0}}') from None
    if kind not in ("chief", "worker") or index >= len(chiefs if kind == "chief" else workers) or index < 0:
        raise ClusterError(f"TF_CONFIG: task {kind} {index} is not in its cluster")
    rank = index if kind == "chief" else len(chiefs) + index
    return Cluster(workers=len(chiefs) + len(workers), rank=rank, chief=rank == 0, configured=True)


def make_strategy(name: str, cluster: Cluster):
    """(resolved name, strategy). ``auto``: multi-worker with a TF_CONFIG cluster of several tasks, mirrored with
    several GPUs, else default (no distribution). Create it before TensorFlow runs any op."""
    import tensorflow as tf

    if name not in STRATEGIES:
        raise ClusterError(f"--strategy {name!r}: choose one of {', '.join(STRATEGIES)}")
    if name == "auto":
        if cluster.workers > 1:
            name = "multi-worker"
        elif len(tf.config.list_physical_devices("GPU")) > 1:
            name = "mirrored"
        else:
            name = "default"
    if name == "multi-worker":
        return name, tf.distribute.MultiWorkerMirroredStrategy()
    if name == "mirrored":
        return name, tf.distribute.MirroredStrategy()
    return name, tf.distribute.get_strategy()


def multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and \
        strategy.extended._in_multi_worker_mode()  # noqa: SLF001 (the test Keras itself uses)


def prepare_model(model, strategy, example: tuple[np.ndarray, np.ndarray]) -> None:
    """Make a compiled Keras 3 model trainable under ``strategy`` (call inside ``strategy.scope()``).

    Keras 3.15's TensorFlow trainer, under a distribution strategy, (1) reduces a whole (x, y) batch with
    ``strategy.reduce`` to build the model, which fails on a tuple: the model and its metrics are built here from
    an example batch instead; (2) under MultiWorkerMirroredStrategy reduces each step's scalar logs with
    ``reduce(MEAN, axis=0)``, which fails on a scalar: the steps return them with shape (1,)."""
    import keras

    model._symbolic_build(data_batch=example)  # noqa: SLF001
    model._maybe_symbolic_build = lambda *args, **kwargs: None  # noqa: SLF001
    if multi_worker(strategy):
        def rank1(step: Callable) -> Callable:
            def wrapped(data):
                return {k: keras.ops.reshape(v, (1,)) for k, v in step(data).items()}
            return wrapped

        model.train_step = rank1(model.train_step)
        model.test_step = rank1(model.test_step)


def distributed_batches(strategy, stream_for: Callable[[int, int], object], batch_size: int, num_classes: int,
                        streams: list):
    """A distributed dataset of one-hot training batches of ``batch_size`` per replica. ``stream_for(pipeline,
    pipelines)`` makes the BatchStream of one input pipeline (one per worker); made streams are appended to
    ``streams`` so the caller can close them."""
    import tensorflow as tf

    eye = np.eye(num_classes, dtype=np.float32)

    def dataset_fn(context):
        stream = stream_for(context.input_pipeline_id, context.num_input_pipelines)
        streams.append(stream)

        def batches():
            for x, y in stream:
                yield x, eye[y]

        spec = (tf.TensorSpec((batch_size, 40, 40, 1), tf.float32), tf.TensorSpec((batch_size, num_classes),
                                                                                    tf.float32))
        dataset = tf.data.Dataset.from_generator(batches, output_signature=spec)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.OFF
        return dataset.with_options(options).prefetch(2)

    return strategy.distribute_datasets_from_function(dataset_fn)


def barrier(strategy) -> None:
    """Wait until every worker gets here (an all-reduce of one number). A worker that exits while the chief still
    exports would make TensorFlow's coordination service fail the chief ("the tasks have crashed")."""
    import tensorflow as tf

    if multi_worker(strategy):
        strategy.reduce(tf.distribute.ReduceOp.SUM, strategy.run(lambda: tf.constant(1.0)), axis=None)


def plain_copy(model):
    """The same model outside any strategy: what the chief selects, exports and parity-checks on its own."""
    import keras

    copy = keras.Model.from_config(model.get_config())
    copy.set_weights(model.get_weights())
    return copy


def fingerprint(model) -> str:
    """sha256 of every weight (trainable or not), in order: equal on every worker of a synchronous run."""
    digest = hashlib.sha256()
    for w in model.get_weights():
        digest.update(np.ascontiguousarray(w).tobytes())
    return digest.hexdigest()
