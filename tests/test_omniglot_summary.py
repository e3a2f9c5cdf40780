import pytest

from benchmarks import omniglot_summary
from benchmarks.omniglot_summary import last_quarter_gain, validation_curve


def test_the_validation_curve_is_read_from_every_sitting_of_a_log_and_the_last_quarter_judged(tmp_path, monkeypatch):
    (tmp_path / "m.log").write_text(
        "training relationnet on omniglot\n"
        "2000/1000000 (0%) [04:23<278:42:38,  1.01s/ep] loss 0.005, acc 97.0%, val 92.7%*\n"
        "2100/1000000 (0%) [04:30<278:42:38,  1.01s/ep] loss 0.005, acc 97.0%\n"
        "saved /tmp/m.safetensors; test on test: 20-way 1-shot 91.7 ± 0.2%\n"
        "4000/1000000 (0%) [30:14<221:56:01,  1.25ep/s] loss 0.010, acc 90.5%, val 94.7%*\n"
        "4000/1000000 (0%) [00:01<221:56:01,  1.25ep/s] loss 0.010, acc 90.5%, val 94.9%\n"  # validated again
        "8000/1000000 (1%) [56:39<220:13:44,  1.25ep/s] loss 0.006, acc 97.5%, val 95.0%*\n"
    )
    monkeypatch.setattr(omniglot_summary, "PAPER_MODELS", tmp_path)
    curve = validation_curve("m")
    assert curve == [(2000, 92.7), (4000, 94.9), (8000, 95.0)]
    assert round(last_quarter_gain(curve, 8000), 6) == 0.1  # 95.0 after step 6000 against 94.9 before
    assert last_quarter_gain(curve, 100_000) is None  # nothing validated in the last quarter
    assert validation_curve("absent") == []


def test_gpu_minutes_and_cpu_hours_are_counted_apart():
    sittings = [{"device": "cuda", "minutes_asked": 4.5}, {"device": "cpu", "minutes_asked": 95},
                {"device": "cpu", "minutes_asked": 25}]  # fmt: skip
    assert omniglot_summary.device_time(sittings) == (4.5, 2.0)
    stopped_early = {"device": "cpu", "minutes_asked": 120, "training_minutes": 43.2}
    assert omniglot_summary.device_time([stopped_early]) == (0, pytest.approx(0.72))
    assert omniglot_summary.device_time([]) == (0, 0)
