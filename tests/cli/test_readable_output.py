"""Numbers for people, digits for machines: the CLI's text shows a regression prompt at 4
significant digits, while --json and `format_input` keep every digit (the prompt reads back
exactly)."""

from __future__ import annotations

import json
import re

import torch

from interp.cli import main
from interp.subjects import load_subject

LONG_NUMBER = re.compile(r"\d\.\d{6,}")  # e.g. 1.6740833520889282


def test_info_of_a_regression_model_shows_its_example_rounded_and_keeps_it_exact_in_json(capsys):
    assert main(["info", "icl-lsa", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    text, summary = "\n".join(lines[:-1]), json.loads(lines[-1])
    example = next(line for line in text.splitlines() if line.strip().startswith("example:"))
    assert not LONG_NUMBER.search(example), example
    assert LONG_NUMBER.search(summary["example_input"])  # the JSON keeps every digit of the float32s
    subject = load_subject("icl-lsa")
    xs, ys = subject.parse_input(summary["example_input"])
    assert torch.equal(xs, subject.default_input()[0]) and torch.equal(ys, subject.default_input()[1])


def test_show_input_rounds_while_format_input_round_trips():
    subject = load_subject("icl-lsa")
    xs, ys = subject.parse_input("seed=3")
    shown = json.loads(subject.show_input((xs, ys)))
    # 4 significant digits of each value, computed here independently of the subject.
    assert shown["xs"] == [[float(f"{v:.4g}") for v in row] for row in xs.tolist()]
    assert shown["ys"] == [float(f"{v:.4g}") for v in ys.tolist()]
    back_xs, back_ys = subject.parse_input(subject.format_input((xs, ys)))
    assert torch.equal(back_xs, xs) and torch.equal(back_ys, ys)


def test_token_models_show_what_they_read():
    subject = load_subject("addition-1l")
    question = subject.parse_input("12345+67890=")
    assert subject.show_input(question) == subject.format_input(question) == "12345+67890="


def test_interp_rasp_prints_fractions_short_and_keeps_them_exact_in_json(capsys):
    assert main(["rasp", "frac_prevs", "--input", "x y x y y", "--json"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # Fraction of x's so far, by hand: 1/1, 1/2, 2/3, 2/4, 2/5.
    assert "output: [1.0, 0.5, 0.6667, 0.5, 0.4]" in lines
    assert json.loads(lines[-1])["output"] == [1.0, 0.5, 2 / 3, 0.5, 0.4]
