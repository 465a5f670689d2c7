"""Compile RASP programs to `interp.model.HookedTransformer` weights (a better tracr).

Stages, one module each: lower (value sets, per-node MLP/attention constructions) ->
schedule (layers) -> numerics (sharpness) -> layout (residual register allocation) ->
assemble (weights) -> compiled (CompiledModel: run, verify, circuit, save/load).
"""

from rasp.compiler.compiled import CompiledModel, Mismatch, VerifyReport
from rasp.compiler.errors import CompileError, CompileWarning
from rasp.compiler.pipeline import compile_program
from rasp.compiler.program_layout import ProgramLayout
from rasp.compiler.tracr_compat import compile_rasp_to_model

__all__ = [
    "CompileError",
    "CompileWarning",
    "CompiledModel",
    "Mismatch",
    "ProgramLayout",
    "VerifyReport",
    "compile_program",
    "compile_rasp_to_model",
]
