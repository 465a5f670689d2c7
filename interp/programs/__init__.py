"""Transformer Programs (Friedman, Wettig & Chen 2023): transformers that are discrete by
design, trained with Gumbel-softmax, discretised into an exact program, converted losslessly
into `interp.model.HookedTransformer`, and decompiled into Python and RASP."""

from interp.programs.convert import hooked_predict, to_hooked
from interp.programs.model import TransformerProgramModel
from interp.programs.program import DiscreteProgram, ProgramShape

__all__ = ["DiscreteProgram", "ProgramShape", "TransformerProgramModel", "hooked_predict", "to_hooked"]
