"""BLEU and chrF++ equal what the sacrebleu command line prints for the same files."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from xlt.translation.scores import scores

REFS = ["घर बड़ा है और सुंदर भी है", "पानी आज बहुत ठंडा है", "यह एक छोटा परीक्षण वाक्य है",
        "मैं कल दिल्ली जाऊँगा", "बच्चे पार्क में खेल रहे हैं", "उसने एक नई किताब खरीदी",
        "బడి పిల్లలు ఆటలు ఆడుతున్నారు", "ఈ రోజు వాతావరణం చాలా బాగుంది"]
HYPS = ["घर बड़ा है और सुंदर है", "पानी आज ठंडा है", "यह एक छोटा वाक्य है",
        "मैं कल दिल्ली जाऊँगा", "बच्चे पार्क में खेलते हैं", "उसने नई किताब ली",
        "బడి పిల్లలు ఆటలు ఆడారు", "ఈ రోజు వాతావరణం బాగుంది"]


def test_scores_equal_the_sacrebleu_command_line(tmp_path):
    (tmp_path / "ref.txt").write_text("\n".join(REFS) + "\n", encoding="utf-8")
    (tmp_path / "hyp.txt").write_text("\n".join(HYPS) + "\n", encoding="utf-8")
    cli = Path(sys.executable).with_name("sacrebleu")
    out = subprocess.run([str(cli), str(tmp_path / "ref.txt"), "-i", str(tmp_path / "hyp.txt"),
                          "-m", "bleu", "chrf", "--chrf-word-order", "2", "-w", "4"],
                         capture_output=True, text=True, check=True).stdout
    bleu_cli, chrf_cli = json.loads(out)
    ours = scores(HYPS, REFS)
    assert bleu_cli["score"] > 10 and chrf_cli["name"] == "chrF2++"     # a fixture that exercises n-grams
    assert ours["bleu"] == pytest.approx(bleu_cli["score"], abs=5e-5)
    assert ours["chrf"] == pytest.approx(chrf_cli["score"], abs=5e-5)
    assert ours["signature"] == {"bleu": bleu_cli["signature"], "chrf": chrf_cli["signature"]}
    assert ours["sentences"] == len(REFS)


def test_perfect_and_mismatched():
    assert scores(REFS, REFS)["bleu"] == pytest.approx(100.0)
    assert scores(REFS, REFS)["chrf"] == pytest.approx(100.0)
    with pytest.raises(ValueError, match="7 hypotheses for 8 references"):
        scores(HYPS[:-1], REFS)


def test_distinct_and_in_script_expose_a_model_that_does_not_translate():
    refs = REFS[:6]                                          # Hindi
    good = scores(HYPS[:6], refs, "hi")
    assert good["distinct"] == 1.0 and good["in_script"] == 1.0
    same = scores(["घर बड़ा है"] * 6, refs, "hi")             # one sentence for every input
    assert same["distinct"] == pytest.approx(1 / 6)
    mixed = scores(["the house is big", "", "घर big है", "పానీ", HYPS[4], HYPS[5]], refs, "hi")
    # English, empty, half Devanagari (counts), Telugu script, two Hindi
    assert mixed["in_script"] == pytest.approx(3 / 6)
    assert scores(HYPS[6:], REFS[6:], "te")["in_script"] == 1.0
    assert scores(HYPS[6:], REFS[6:], "hi")["in_script"] == 0.0
    assert "in_script" not in scores(HYPS, REFS)             # no language, no script check
