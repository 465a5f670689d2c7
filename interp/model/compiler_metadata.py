"""The checks a compiled RASP model's metadata must pass before its model can be decoded:
shared by `rasp.compiler.CompiledModel.load` and the front door (interp.subjects), so every
entry point refuses a corrupt checkpoint with the same CheckpointError. It reads plain JSON
(the checkpoint header), so interp.model stays free of any `rasp` import."""

from __future__ import annotations

from pathlib import Path

from interp.errors import CheckpointError

_COMPILER_FIELDS = {"vocab": list, "bos": str, "max_seq_len": int, "causal": bool,
                    "numerical_output": bool, "output_values": list}


def check_compiler_metadata(header: dict, path: str | Path) -> None:
    """CheckpointError naming the field when a checkpoint's compiler metadata cannot decode its
    model: a missing/mistyped field, or sizes that disagree with the model config."""
    metadata = header.get("metadata")
    info = metadata.get("compiler") if isinstance(metadata, dict) else None
    if not isinstance(info, dict) or not isinstance(metadata.get("layout"), dict):
        raise CheckpointError(f"{path}: not a compiled RASP model (no compiler metadata and layout); "
                              "`interp info` describes any saved model.")

    def corrupt(what: str) -> CheckpointError:
        return CheckpointError(f"{path}: corrupt compiler metadata in config.json: {what}; "
                               "compile the program again.")

    for field, kind in _COMPILER_FIELDS.items():
        value = info.get(field)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise corrupt(f"metadata.compiler.{field} is {value!r}, expected a {kind.__name__}")
    if info["max_seq_len"] < 1:
        raise corrupt(f"metadata.compiler.max_seq_len is {info['max_seq_len']}, expected >= 1")
    cfg = header.get("config") if isinstance(header.get("config"), dict) else {}
    checks = [
        ("d_vocab", len(info["vocab"]) + 1, "len(vocab) + 1 (BOS)"),
        ("causal", info["causal"], "metadata.compiler.causal"),
    ]
    if not info["numerical_output"] and info["output_values"]:
        checks.append(("d_vocab_out", len(info["output_values"]), "len(output_values)"))
    for field, expected, meaning in checks:
        if field in cfg and cfg[field] is not None and cfg[field] != expected:
            raise corrupt(f"config.{field} is {cfg[field]!r} but {meaning} is {expected!r}")
    if isinstance(cfg.get("n_ctx"), int) and info["max_seq_len"] + 1 > cfg["n_ctx"]:
        raise corrupt(f"metadata.compiler.max_seq_len {info['max_seq_len']} does not fit "
                      f"config.n_ctx {cfg['n_ctx']} (BOS takes one position)")
