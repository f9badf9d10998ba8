"""The evaluation report carries the stroke-diagnosis figures when they were measured."""

from __future__ import annotations

import json

from hanzicheck.engine.evaluate import summary
from hanzicheck.engine.report import write_report


def test_report_has_a_stroke_diagnosis_section(tmp_path):
    metrics = {"model": "m", "sources": [], "calibrated": False,
               "diagnosis": {"chars": 178, "dropped_samples": 356, "complete_samples": 356, "top1": 0.63,
                             "detected": 0.65, "false_alarm": 0.056, "ms_per_diagnosis": 120.0, "failures": [],
                             "style": "synth"}}
    metrics["summary"] = summary(metrics)
    write_report(metrics, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert "## Stroke diagnosis" in text and "63.00 %" in text and "5.60 %" in text
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["summary"]["diagnosis_top1"] == 0.63
    assert saved["summary"]["diagnosis_false_alarm"] == 0.056
