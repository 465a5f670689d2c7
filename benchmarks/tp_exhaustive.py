"""Accuracy of a Transformer Program on EVERY input of its task (hist, sort, reverse), not only its
test split: the shipped programs, or any `interp train-program --out` folder.

    python benchmarks/tp_exhaustive.py program:hist program:sort [RUN_DIR ...] --json OUT.json

The inputs are those the task's sampler can produce (interp.programs.data.all_inputs: [BOS] +
every body of every length, + EOS for sort/reverse). The labels come from a closed form written
here (hist: how often the token occurs; sort: the body ascending; reverse: the body reversed),
which is first checked equal to the folder's own test labels (made by the RASP library through
the interpreter). Reported: the fraction of inputs right at every position, the fraction of
scored positions right, and the wrong inputs grouped (hist: by the largest count in the input;
sort/reverse: by length).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

from interp.programs.data import all_inputs, input_space_size
from interp.programs.pipeline import load_discrete_program
from interp.subjects import TRAINED_PROGRAM_KINDS, resolve

TASKS = ("hist", "sort", "reverse")


def closed_form(task: str, body: list[str]) -> list[str]:
    """The task's labels of a body (no BOS/EOS)."""
    if task == "hist":
        counts = Counter(body)
        return [str(counts[t]) for t in body]
    if task == "sort":
        return [str(v) for v in sorted(int(t) for t in body)]
    if task == "reverse":
        return body[::-1]
    raise SystemExit(f"error: exhaustive labels exist for {', '.join(TASKS)}, not {task!r}.")


def body_of(task: str, words: list[str]) -> list[str]:
    """The body of an input ([BOS] + body (+ [EOS] for sort/reverse))."""
    return words[1:-1] if task in ("sort", "reverse") else words[1:]


def check_against_test(task: str, folder: Path) -> int:
    """Closed-form labels equal the folder's interpreter-made test labels; returns examples checked."""
    test = json.loads((folder / "test.json").read_text())
    for words, targets in zip(test["inputs"], test["targets"]):
        scored = [t for t in targets if t is not None]
        if closed_form(task, body_of(task, words)) != scored:
            raise SystemExit(f"error: closed-form {task} labels differ from {folder / 'test.json'} "
                             f"on {words}.")
    return len(test["inputs"])


def exhaustive(location: str, chunk: int = 65_536) -> dict:
    """Every-input accuracy of one program folder (or shipped name)."""
    folder = Path(resolve(location, TRAINED_PROGRAM_KINDS, "a Transformer Program").location)
    task_info = json.loads((folder / "task.json").read_text())
    task, tokens, labels = task_info["task"], task_info["tokens"], task_info["labels"]
    n_ctx = task_info["n_ctx"]
    checked = check_against_test(task, folder)
    program = load_discrete_program(folder, simplified=False)  # the argmax program itself
    started = time.perf_counter()
    ids, lengths = all_inputs(task, tokens, n_ctx)
    n = len(ids)
    assert n == input_space_size(task, tokens, n_ctx)
    right_inputs = right_positions = scored_positions = 0
    wrong_by: Counter = Counter()
    total_by: Counter = Counter()
    label_index = {label: i for i, label in enumerate(labels)}
    for start in range(0, n, chunk):
        tok, lens = ids[start : start + chunk], lengths[start : start + chunk]
        predicted = program.predict(tok, lens)  # [b, n_ctx]
        for row in range(len(tok)):
            length = int(lens[row])
            words = [tokens[t] for t in tok[row, :length].tolist()]
            body = body_of(task, words)
            expected = [label_index.get(v, -1) for v in closed_form(task, body)]
            got = predicted[row, 1 : 1 + len(body)].tolist()
            hits = sum(int(a == b) for a, b in zip(got, expected))
            right_positions += hits
            scored_positions += len(body)
            key = max(Counter(body).values()) if task == "hist" else len(body)
            total_by[key] += 1
            if hits == len(body):
                right_inputs += 1
            else:
                wrong_by[key] += 1
    group = "largest count of a token" if task == "hist" else "body length"
    return {
        "program": location, "folder": str(folder), "task": task, "inputs": n,
        "inputs_right": right_inputs, "input_accuracy": right_inputs / n,
        "position_accuracy": right_positions / scored_positions,
        "wrong_inputs_by": group,
        "wrong_by_group": {str(k): {"wrong": wrong_by[k], "of": total_by[k]} for k in sorted(total_by)},
        "closed_form_checked_on_test_examples": checked,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("programs", nargs="+",
                        help="program:hist, program:sort, or train-program --out folders")
    parser.add_argument("--json", help="write the results here")
    args = parser.parse_args(argv)
    results = []
    for location in args.programs:
        row = exhaustive(location)
        results.append(row)
        print(f"{location} ({row['task']}): {row['inputs_right']:,} of {row['inputs']:,} inputs right "
              f"({100 * row['input_accuracy']:.3f}%), {100 * row['position_accuracy']:.4f}% of positions; "
              f"wrong by {row['wrong_inputs_by']}: "
              + ", ".join(f"{k}: {v['wrong']}/{v['of']}" for k, v in row["wrong_by_group"].items()
                          if v["wrong"]),
              flush=True)
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
