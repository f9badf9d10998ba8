"""A model's answers on a labelled npz: the figures scripts start from here."""

import numpy as np

from hanzicheck.data.synth.config import SynthConfig
from hanzicheck.data.synth.synthesizer import Synthesizer
from hanzicheck.engine.answered import answer_npz
from hanzicheck.inference.recognizer import Recognizer


def test_answers_name_the_truth_and_count_non_hsk1_as_unknown(tmp_path):
    synth = Synthesizer(config=SynthConfig.plain())
    rng = np.random.default_rng(0)
    images = np.stack([synth.char("十", rng), synth.char("大", rng), synth.char("十", rng)])
    path = tmp_path / "three.npz"
    np.savez(path, images=images, labels=np.array(["十", "大", "A"]))  # no writers; 'A' is not HSK1
    rec = Recognizer.load()
    a = answer_npz(rec, path)
    assert [rec.classes[i] for i in a.truth] == ["十", "大", "Unknown"]
    assert a.known.tolist() == [True, True, False]
    assert a.writers.tolist() == ["0", "0", "0"]
    assert a.probs.shape == (3, len(rec.classes))
    assert rec.classes[a.pred[0]] == "十" and rec.classes[a.pred[1]] == "大"  # plain drawings are read right
