"""Run under torchrun by test_ddp: trains the tiny model and saves it into argv[1]."""

import sys

import torch
from training_helpers import TASK, tiny_config, tiny_model

from interp.training import train

if __name__ == "__main__":
    torch.set_num_threads(1)
    # float64: Adam divides by sqrt(v), which magnifies float32 rounding of near-zero gradients.
    train(tiny_model(dtype=torch.float64), TASK.sample, tiny_config(steps=6), out_dir=sys.argv[1],
          progress=False)
