"""The textual-RASP REPL, after the original (tech-srl/RASP): statements, settings, draw.

Each statement is run as soon as it is complete (it may span lines); its result is shown
on the running example (`set example "abc"`, default "hello"). An error is shown and the
statement skipped; the session goes on. Commands: `set [s-op|selector] example X`,
`show [s-op|selector] example`, `[s-op|selector] examples on|off`,
`full seq display on|off`, `draw(sop[, example]);`, `load "file";`, `exit`/`quit`.
Our additions: `:input a b c` sets the example to those space-separated tokens; `help` lists
all of this.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from rasp import core
from rasp.errors import RASPError, RASPSyntaxError
from rasp.flow import flow_figure, flow_graph, flow_text
from rasp.limits import Limits
from rasp.textual.interpreter import Interpreter
from rasp.textual.parser import parse_statements
from rasp.textual.values import Event, ExitProgram, Function, describe

HELP = """\
Statements end with ';' and may span lines; each result is shown on the running example.
  x = tokens == "a";                 name a value (s-op, selector, number, list, dict, function)
  s = select(indices, indices, ==);  selectors: select(keys, queries, predicate)
  aggregate(s, tokens);              s-ops: map, zipmap, aggregate, selector_width, tokens, indices, length
  def f(a) { return a + 1; }         functions; for loops: for i in range(3) { ... }
  load "file.rasp";                  run a file (its names become available)
  draw(x);  draw(x, "abc");          the computation flow of an s-op on the running example (or on "abc")
Settings:
  set example "abc"                  the running example (also: set s-op example, set selector example)
  :input a b c                       the running example as space-separated tokens
  show example                       print the running example(s)
  s-op examples on|off               show s-op values on the example (also: selector examples)
  full seq display on|off            input and output aligned in columns
  help                               this text
  exit  (or quit, or Ctrl-D)         leave; Ctrl-C abandons the statement being typed"""


def format_atom(value: Any) -> str:
    """An atom as the original prints it (strings in double quotes)."""
    return f'"{value}"' if isinstance(value, str) else str(value)


def type_name(values: list[Any]) -> str:
    """The original's element-type note: ints, floats, strings, bools (or mixed)."""
    for kind, name in ((bool, "bools"), (str, "strings"), (int, "ints")):
        if all(isinstance(v, kind) and (kind is bool or not isinstance(v, bool)) for v in values):
            return name
    if all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        return "floats"
    return "mixed"


def format_sequence(values: list[Any]) -> str:
    """A sequence value: [h, e, l, l, o] (strings); [5]*5 when every value is the same."""
    shown = [str(v) for v in values]
    if len(values) > 1 and len(set(shown)) == 1:
        body = f"[{shown[0]}]*{len(values)}"
    else:
        body = "[" + ", ".join(shown) + "]"
    return f"{body} ({type_name(values)})"


def format_selector(example: list[Any], matrix: list[list[bool]], indent: str = "") -> list[str]:
    """The selector as a 0/1 grid with the example along both sides (query rows, key columns)."""
    lines = [f"{indent}\t\t\t     " + " ".join(str(v) for v in example)]
    for token, row in zip(example, matrix):
        lines.append(f"{indent}\t\t\t {token} | " + " ".join("1" if x else " " for x in row))
    return lines


class Repl:
    """One REPL session writing to `out`; feed it lines with `feed` or a stream with `run`."""

    def __init__(
        self,
        out: TextIO,
        *,
        limits: Limits | None = None,
        allow_outside: bool = False,
        causal: bool = False,
        draw_dir: str | Path | None = None,
        root: str | Path | None = None,
        draws_only: bool = False,
    ):
        self.out = out
        self.interpreter = Interpreter(strict=False, limits=limits, allow_outside=allow_outside, root=root)
        self.causal = causal
        self.draw_dir = Path(draw_dir) if draw_dir is not None else None
        self.draws_only = draws_only  # show only draw(...) results (a file run for its output)
        self.pending = ""
        self.finished = False
        self.errors = 0

    @property
    def settings(self) -> Any:
        """The session's settings (running examples, display toggles)."""
        return self.interpreter.settings

    def print(self, *parts: Any) -> None:
        print(*parts, file=self.out)

    def banner(self) -> None:
        self.print("RASP (interp) -- statements end with ';'; 'help' lists the commands, 'exit' quits.")
        self.print("running example is:", format_atom(self.settings.sop_example))

    # Input ---------------------------------------------------------------------------
    def run(self, lines: Iterable[str]) -> int:
        """Feed every line; returns the number of statements that failed."""
        for line in lines:
            if not self.feed(line):
                break
        if self.pending.strip() and not self.finished:
            self._report(RASPError("input ended inside an unfinished statement"))
        return self.errors

    def feed(self, line: str) -> bool:
        """Add one line; run the statement(s) once complete. False after `exit`."""
        if not self.pending and line.strip().startswith(":input"):
            words = line.strip()[len(":input") :].split()
            self.settings.sop_example = words
            self.settings.selector_example = words
            self.print("running example is:", words)
            return True
        if not self.pending and line.strip() in ("help", "help;"):
            self.print(HELP)
            return True
        if line.lstrip().startswith("#"):
            return True
        self.pending += line if line.endswith("\n") else line + "\n"
        if not self.pending.strip():
            self.pending = ""
            return True
        try:
            statements = parse_statements(self.pending, self.interpreter.limits)
        except RASPSyntaxError as error:
            if error.incomplete:
                return True  # keep reading: the statement goes on
            self.pending = ""
            self._report(error)
            return True
        self.pending = ""
        for statement in statements:
            self.interpreter.steps = 0  # the step cap is per statement in a session
            try:
                event = self.interpreter.run_statement(statement, self.interpreter.globals, top=True)
            except ExitProgram:
                self.finished = True
                return False
            except KeyboardInterrupt:
                self._report(RASPError("interrupted; the statement was not run to the end"))
                continue
            try:
                self.show(event)
            except RASPError as error:  # e.g. a value that fails on a changed example
                self._report(error)
        return True

    # Output --------------------------------------------------------------------------
    def _report(self, error: Exception) -> None:
        self.errors += 1
        self.print(f"\t\t!!ignoring input:\n\t {error}")

    def show(self, event: Event, show_examples: bool = True) -> None:
        """Print one statement's result the way the original REPL does."""
        if self.draws_only:
            for leaf in _leaves(event):
                if leaf.kind == "draw":
                    self.draw(*leaf.value)
                elif leaf.kind == "error":
                    self._report(leaf.value)
            return
        if event.kind == "error":
            self._report(event.value)
        elif event.kind == "values":
            if event.name is not None:  # a loaded file: its last value of each exported name
                self._show_loaded(event)
            else:
                for item in event.items:
                    self.show(item, show_examples)
        elif event.kind == "value":
            self.show_value(event.name, event.value, show_examples)
        elif event.kind == "example":
            self.show_example(event.value)
        elif event.kind == "draw":
            self.draw(*event.value)

    def _show_loaded(self, event: Event) -> None:
        last: dict[str, Event] = {}
        for item in _leaves(event):
            if item.kind == "error":
                self._report(item.value)
            exported = item.name and not item.name.startswith("_") and item.name != "out"
            if item.kind == "value" and exported:
                last.pop(item.name, None)  # show each name once, at its last value
                last[item.name] = item
        for named in last.values():
            self.show_value(named.name, named.value, show_examples=False)

    def show_value(self, name: str | None, value: Any, show_examples: bool = True) -> None:
        settings = self.settings
        if isinstance(value, core.SOp):
            self.print(f"     s-op: {name}")
            if show_examples and settings.show_sop_examples:
                self._show_sop_example(name, value)
        elif isinstance(value, core.Selector):
            self.print(f"     selector: {name}")
            if show_examples and settings.show_selector_examples:
                self.print("\t Example:")
                example = _as_list(settings.selector_example)
                for line in format_selector(example, self._evaluate(value, example)):
                    self.print(line)
        elif isinstance(value, Function):
            self.print(f"     {value}")
        elif isinstance(value, list):
            self.print(f"     list: {name} = {describe(value) if _deep(value) else value}")
        elif isinstance(value, dict):
            self.print(f"     dict: {name} = {describe(value) if _deep(value) else value}")
        elif value is not None:
            self.print(f"    value: {name} =  {format_atom(value)}")

    def _show_sop_example(self, name: str | None, sop: core.SOp) -> None:
        example = _as_list(self.settings.sop_example)
        values = self._evaluate(sop, example)
        shown = format_atom(self.settings.sop_example)
        if not self.settings.full_seq_display:
            self.print(f" \t Example: {name}({shown}) = {format_sequence(values)}")
            return
        width = max(len(str(v)) for v in example + values)
        self.print(f" \t Example: {name}({shown}) =")
        for title, row in (("input: ", example), ("output:", values)):
            cells = " ".join(str(v).rjust(width) for v in row)
            self.print(f"\t\t{title} {cells}\t({type_name(row)})")

    def _evaluate(self, expr: core.RASPExpr, example: list[Any]) -> Any:
        from rasp.evaluate import evaluate

        return evaluate(expr, example, causal=self.causal)

    def show_example(self, subset: str) -> None:
        if subset in ("both", "s-op"):
            self.print("\t s-op example:", format_atom(self.settings.sop_example))
        if subset in ("both", "selector"):
            self.print("\tselector example:", format_atom(self.settings.selector_example))

    def draw(self, sop: core.SOp, example: list[Any]) -> None:
        """Print the computation flow; with a draw_dir, also save it as a plotly HTML figure."""
        try:
            graph = flow_graph(sop, example, causal=self.causal)
        except RASPError as error:
            self._report(error)
            return
        self.print(flow_text(graph))
        if self.draw_dir is not None:
            path = self.draw_dir / f"{sop.label}.html"
            try:
                self.draw_dir.mkdir(parents=True, exist_ok=True)
                # plotly.js inside the file: a figure must open offline (nothing fetched at view time).
                flow_figure(graph).write_html(str(path), include_plotlyjs=True)
            except OSError as error:  # --draw-dir under a regular file, unwritable, ...
                self._report(RASPError(f"cannot write the figure to {path}: {error.strerror or error}; "
                                       "choose another --draw-dir"))
                return
            self.print(f"\t(figure written to {path})")


def _leaves(event: Event) -> list[Event]:
    """The value and error events inside a (possibly nested) group of events."""
    if event.kind != "values":
        return [event]
    return [leaf for item in event.items for leaf in _leaves(item)]


def _as_list(example: Any) -> list[Any]:
    return list(example) if isinstance(example, (str, list, tuple)) else [example]


def _deep(value: Any) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(v, (list, dict, core.RASPExpr, Function)) for v in items) or len(items) > 50


def run_repl(stdin: TextIO, out: TextIO, **options: Any) -> int:
    """Run an interactive (or piped) session; returns the number of failed statements."""
    repl = Repl(out, **options)
    repl.banner()
    if not stdin.isatty():
        return repl.run(stdin)
    return repl.run(_prompted_lines(repl))


def _prompted_lines(repl: Repl) -> Iterable[str]:
    """Lines typed at a terminal, with the original's prompts (>> and .. to continue)."""
    while True:
        try:
            yield input(".. " if repl.pending else ">> ")
        except EOFError:
            repl.print("")
            return
        except KeyboardInterrupt:
            repl.print("")
            repl.pending = ""  # Ctrl-C abandons the statement being typed
