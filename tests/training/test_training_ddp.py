"""torchrun with 2 CPU processes (gloo) trains the same model as one process at the same
global batch."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file
from training_helpers import TASK, tiny_config, tiny_model

from interp.training import train

ROOT = Path(__file__).resolve().parents[2]


def test_two_process_ddp_equals_single_process(tmp_path: Path):
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(ROOT / "tests" / "training" / "ddp_worker.py"), str(tmp_path)]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    parallel = load_file(str(tmp_path / "model" / "model.safetensors"))  # float64, as trained
    single = train(tiny_model(dtype=torch.float64), TASK.sample, tiny_config(steps=6), progress=False).model
    initial = tiny_model(dtype=torch.float64)
    for name, value in single.state_dict().items():
        torch.testing.assert_close(parallel[name], value, rtol=1e-9, atol=1e-10)
        # ...and training moved the weights, so the comparison means something.
        if name.endswith("W_E"):
            assert not torch.allclose(value, initial.state_dict()[name])
