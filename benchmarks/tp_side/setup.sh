#!/usr/bin/env bash
# Prepare a scratch copy of the paper's code (princeton-nlp/TransformerPrograms) for
# benchmarks/tp_side_by_side.py and for running its own src/run.py on CPU. Fetches nothing:
# pass a local checkout (a work tree, or a bare git directory such as a mirror).
#
#   bash benchmarks/tp_side/setup.sh /path/to/TransformerPrograms [DEST]   (DEST: /tmp/tp-paper)
#
# DEST gets the checkout's src/ and scripts/ unchanged, plus stubs/ with placeholder modules for
# the imports the in-context and RASP tasks never use (datasets, gensim, nltk, black, seqeval:
# GloVe, CoNLL, code export); each stub raises if it is called. When scikit-learn is not
# installed, stubs/sklearn provides train_test_split as sklearn's ShuffleSplit computes it
# (RandomState(seed).permutation, the first ceil(test_size * n) rows are the test split), which
# is the only sklearn function these tasks call. Put DEST first and DEST/stubs last on sys.path
# (tp_side_by_side.py does), so installed packages win over the stubs.
set -euo pipefail
SRC=${1:?usage: setup.sh PAPER_CHECKOUT [DEST]}
DEST=${2:-/tmp/tp-paper}
mkdir -p "$DEST"
if [ -d "$SRC/src" ]; then
  cp -r "$SRC/src" "$SRC/scripts" "$DEST/"
else  # a bare git directory
  git --git-dir="$SRC" archive HEAD src scripts | tar -x -C "$DEST"
fi
git --git-dir="$( [ -d "$SRC/.git" ] && echo "$SRC/.git" || echo "$SRC")" rev-parse HEAD > "$DEST/COMMIT" 2>/dev/null || echo unknown > "$DEST/COMMIT"
S="$DEST/stubs"
mkdir -p "$S/gensim" "$S/nltk" "$S/seqeval" "$S/sklearn"
unused='def _unused(*args, **kwargs):
    raise NotImplementedError("stub from benchmarks/tp_side/setup.sh: not needed by the in-context/RASP tasks")
'
printf '%s\nload_dataset = _unused\n' "$unused" > "$S/datasets.py"
printf '%s\nformat_str = _unused\nFileMode = _unused\n' "$unused" > "$S/black.py"
: > "$S/gensim/__init__.py"
printf '%s\nload = _unused\n' "$unused" > "$S/gensim/downloader.py"
: > "$S/nltk/__init__.py"
printf '%s\nword_tokenize = _unused\n' "$unused" > "$S/nltk/tokenize.py"
: > "$S/seqeval/__init__.py"
printf '%s\nprecision_score = recall_score = f1_score = _unused\n' "$unused" > "$S/seqeval/metrics.py"
printf '%s\nIOB2 = None\n' "$unused" > "$S/seqeval/scheme.py"
: > "$S/sklearn/__init__.py"
printf '%s\nGaussianRandomProjection = _unused\n' "$unused" > "$S/sklearn/random_projection.py"
printf '%s\nnormalize = _unused\n' "$unused" > "$S/sklearn/preprocessing.py"
cat > "$S/sklearn/model_selection.py" <<'PY'
"""sklearn.model_selection.train_test_split for a DataFrame, test_size a float and an int seed,
as sklearn computes it: ShuffleSplit(test_size).split with RandomState(seed).permutation, test
rows first (checked equal to scikit-learn 1.9.1 on the paper's induction and hist data)."""
import math

import numpy as np


def train_test_split(df, test_size=0.25, random_state=None):
    n = len(df)
    n_test = math.ceil(test_size * n)
    permutation = np.random.RandomState(random_state).permutation(n)
    test, train = permutation[:n_test], permutation[n_test:]
    return df.iloc[train], df.iloc[test]
PY
echo "prepared $DEST (paper commit $(cat "$DEST/COMMIT"))"
