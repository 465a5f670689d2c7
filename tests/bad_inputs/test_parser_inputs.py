"""Bad textual-RASP inputs: each gives one RASPError/RASPSyntaxError naming the offender,
in bounded time and memory (every case runs in a child under a 1 GiB address-space rlimit)."""

from __future__ import annotations

import io
from dataclasses import dataclass

import pytest
from rasp_sandbox import run_cases

import rasp
from rasp.limits import Limits
from rasp.textual.repl import Repl

MAX_SECONDS = 5.0


@dataclass(frozen=True)
class Case:
    """A snippet that must raise `error` with a message containing `fragment`."""

    name: str
    code: str
    error: str
    fragment: str


def parse(text: str) -> str:
    """Code that parses `text` as a whole program."""
    return f"import rasp\nrasp.parse_program({text!r})"


DEEP = 85
CASES = [
    # Issue 10 (6): a selector is not a condition.
    Case("if_selector_condition", parse("x = tokens if select(tokens, tokens, ==) else indices;"),
         "RASPSyntaxError", "selector (select_"),
    # Issue 10 (12): constant folding is bounded.
    Case("power_tower", parse("x = 9 ^ 9 ^ 9 ^ 9 ^ 9;"), "RASPSyntaxError", "int_bits=4096"),
    Case("huge_power", parse("x = 2 ^ 100000;"), "RASPSyntaxError", "2 ^ 100000"),
    Case("huge_range", parse("x = range(300000000);"), "RASPSyntaxError", "list_length=100000"),
    Case("list_repeat", parse("x = [0] * 1000000000;"), "RASPSyntaxError", "list_length"),
    Case("string_repeat", parse('x = "ab" * 1000000000;'), "RASPSyntaxError", "list_length"),
    Case("doubling_loop", parse("s = [1]; for i in range(64) { s = s + s; }"), "RASPSyntaxError",
         "list_length"),
    Case("self_sharing_list", parse("x = [1]; for i in range(200) { x = [x, x]; } y = x + 1;"),
         "RASPSyntaxError", "cannot compute [[[[...], [...]], [[...], [...]]]"),
    Case("compare_self_sharing_lists",
         parse("x = [1]; y = [1]; for i in range(200) { x = [x, x]; y = [y, y]; } z = x == y;"),
         "RASPSyntaxError", "more than list_length=100000 nested values"),
    Case("string_formatting", parse('x = "%0999999999d" % 1;'), "RASPSyntaxError", "string formatting"),
    Case("power_inside_map", "import rasp\nrasp.parse('x = tokens ^ 99999999;')([7])", "RASPError",
         "7 ^ 99999999 exceeds int_bits=4096"),
    Case("repeat_inside_map", "import rasp\nrasp.parse('x = tokens * 1000000000;')(['ab'])", "RASPError",
         "exceeds list_length"),
    Case("endless_loops", parse("for i in range(90000) { for j in range(90000) { x = i; } }"),
         "RASPSyntaxError", "parse_steps=200000"),
    # Recursion in the parser and interpreter: a clear error, never RecursionError.
    Case("deep_parentheses", parse("x = " + "(" * DEEP + "1" + ")" * DEEP + ";"), "RASPSyntaxError",
         "parse_nesting=60"),
    Case("deep_lists", parse("x = " + "[" * DEEP + "]" * DEEP + ";"), "RASPSyntaxError", "parse_nesting"),
    Case("deep_dicts", parse("x = " + "{1: " * DEEP + "1" + "}" * DEEP + ";"), "RASPSyntaxError",
         "parse_nesting"),
    Case("deep_calls", parse("x = " + "round(" * DEEP + "1" + ")" * DEEP + ";"), "RASPSyntaxError",
         "parse_nesting"),
    Case("unary_chain", parse("x = " + "- " * 200 + "1;"), "RASPSyntaxError", "parse_nesting"),
    Case("not_chain", parse("x = " + "not " * 200 + "tokens;"), "RASPSyntaxError", "parse_nesting"),
    Case("deep_defs", parse("def f() { " * DEEP + "return 1; }" * DEEP), "RASPSyntaxError", "parse_nesting"),
    Case("recursive_def", parse("def f(x) { return f(x); } y = f(tokens);"), "RASPSyntaxError",
         "calls to f() nest"),
    Case("mutual_recursion", parse("def g(x) { return h(x); } def h(x) { return g(x); } y = g(1);"),
         "RASPSyntaxError", "parse_nesting=60"),
    # Built-ins given wrong values.
    Case("range_zero_step", parse("x = range(1, 5, 0);"), "RASPSyntaxError", "step must not be zero"),
    Case("range_of_string", parse('x = range("a");'), "RASPSyntaxError", "range() needs integers"),
    Case("range_arity", parse("x = range(1, 2, 3, 4);"), "RASPSyntaxError", "range() takes 1 to 3"),
    Case("comprehension_over_int", parse("x = [i for i in 5];"), "RASPSyntaxError",
         "list comprehension needs a list or dict to iterate over, got 5"),
    Case("for_over_sop", parse("for i in tokens { x = i; }"), "RASPSyntaxError", "got s-op tokens"),
    Case("negate_string", parse("x = -'a';"), "RASPSyntaxError", "unary '-' to 'a'"),
    Case("divide_by_zero", parse("x = 1 / 0;"), "RASPSyntaxError", "1 / 0"),
    Case("float_overflow", parse("x = 9.0 ^ 99999;"), "RASPSyntaxError", "9.0 ^ 99999"),
    Case("len_of_int", parse("x = len(3);"), "RASPSyntaxError", "len() needs a list, got 3"),
    Case("round_of_string", parse('x = round("a");'), "RASPSyntaxError", "round()"),
    Case("zip_unequal", parse("x = zip([1], [1, 2]);"), "RASPSyntaxError", "lengths [1, 2]"),
    # Names and values.
    Case("undefined_name", parse("x = nope + 1;"), "RASPSyntaxError", "undefined variable 'nope'"),
    Case("reserved_base_name", parse("indices = 3;"), "RASPSyntaxError", "reserved name 'indices'"),
    Case("reserved_library_name", parse("length = 3;"), "RASPSyntaxError", "reserved name 'length'"),
    Case("selector_arithmetic", parse("x = select(tokens, tokens, ==) + 1;"), "RASPSyntaxError",
         "not '+'"),
    Case("selector_and_sop", parse("x = select(tokens, tokens, ==) and tokens;"), "RASPSyntaxError",
         "selectors only combine"),
    Case("aggregate_without_selector", parse("x = aggregate(tokens, tokens);"), "RASPSyntaxError",
         "selector first, got s-op tokens"),
    Case("aggregate_sop_default", parse("x = aggregate(select(tokens, tokens, ==), tokens, tokens);"),
         "RASPSyntaxError", "default must be an atom, got s-op tokens"),
    Case("index_out_of_range", parse("x = [1, 2][5];"), "RASPSyntaxError", "index 5 out of range"),
    Case("missing_dict_key", parse("x = {1: 2}[3];"), "RASPSyntaxError", "[3] not in dict"),
    Case("list_as_dict_key", parse("x = {[1]: 2};"), "RASPSyntaxError", "keys can only be atoms, got [1]"),
    Case("unpack_mismatch", parse("x, y = 1;"), "RASPSyntaxError", "cannot unpack 1 into 2 names"),
    Case("wrong_arity", parse("def f() { return 1; } x = f(1);"), "RASPSyntaxError",
         "f() takes 0 arguments, got 1"),
    Case("call_a_number", parse("x = 3(4);"), "RASPSyntaxError", "3 is not a function"),
    Case("sop_in_sop", parse("x = tokens in tokens;"), "RASPSyntaxError", "list of atoms, got s-op tokens"),
    Case("apply_sop_to_number", parse("x = tokens(5);"), "RASPSyntaxError", "got 5"),
    Case("draw_a_number", parse("draw(3);"), "RASPSyntaxError", "draw expects an s-op, got 3"),
    Case("example_not_iterable", parse("set example 5"), "RASPSyntaxError", "example not iterable: 5"),
    # Syntax.
    Case("unterminated_string", parse('x = "abc;'), "RASPSyntaxError", "unexpected character '\"'"),
    Case("missing_semicolon", parse("x = tokens"), "RASPSyntaxError", "expected ';', found end of input"),
    Case("missing_expression", parse("x = ;"), "RASPSyntaxError", "expected an expression, found ';'"),
    Case("empty_statement", parse(";"), "RASPSyntaxError", "empty statement"),
    Case("stray_return", parse("return 1;"), "RASPSyntaxError", "'return' is only allowed"),
    Case("def_without_return", parse("def f() { x = 1; }"), "RASPSyntaxError", "must end with a return"),
    Case("select_without_comparison", parse("x = select(tokens, tokens, +);"), "RASPSyntaxError",
         "select needs a comparison"),
    # Programs that build but have nothing to return.
    Case("no_sop", "import rasp\nrasp.parse('x = 1;')", "RASPError", "assigns no s-op"),
    Case("unknown_output", "import rasp\nrasp.parse('x = tokens;', output='nope')", "RASPError",
         "no s-op named 'nope'"),
    # Files.
    Case("non_utf8_file", "import rasp, tempfile, pathlib\n"
         "p = pathlib.Path(tempfile.mkdtemp()) / 'bad.rasp'\np.write_bytes(b'x = \\xff\\xfe;')\n"
         "rasp.parse_file(p)", "RASPError", "is not UTF-8 text (byte 4)"),
    Case("directory_as_file", "import rasp, tempfile\nrasp.parse_file(tempfile.mkdtemp())", "RASPError",
         "is a directory"),
    Case("missing_file", "import rasp\nrasp.parse_file('/nonexistent/x.rasp')", "RASPError",
         "cannot read '/nonexistent/x.rasp'"),
    Case("load_missing", parse('load "nowhere";'), "RASPSyntaxError", "could not find file 'nowhere.rasp'"),
    Case("load_escapes_tree", "import rasp, tempfile, pathlib\n"
         "top = pathlib.Path(tempfile.mkdtemp()); (top / 'sub').mkdir()\n"
         "(top / 'secret.rasp').write_text('s = tokens;')\n"
         "(top / 'sub' / 'main.rasp').write_text('load \"../secret\"; y = s;')\n"
         "rasp.parse_file(top / 'sub' / 'main.rasp')", "RASPSyntaxError", "outside the working tree"),
    Case("load_cycle", "import rasp, tempfile, pathlib\n"
         "d = pathlib.Path(tempfile.mkdtemp())\n"
         "(d / 'a.rasp').write_text('load \"b\"; x = tokens;')\n"
         "(d / 'b.rasp').write_text('load \"a\";')\n"
         "rasp.parse_file(d / 'a.rasp')", "RASPSyntaxError", "load cycle: a.rasp -> b.rasp -> a.rasp"),
]  # fmt: skip


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return run_cases({case.name: case.code for case in CASES})


def test_there_are_enough_cases():
    assert len(CASES) >= 40 and len({c.name for c in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_textual_input_gives_one_clear_error(case: Case, results: dict[str, dict]):
    result = results[case.name]
    assert result["error"] == case.error, result
    assert case.fragment in result["message"], result["message"]
    assert result["seconds"] < MAX_SECONDS, result


def test_syntax_errors_point_at_the_offending_text():
    with pytest.raises(rasp.RASPSyntaxError) as info:
        rasp.parse("a = tokens;\nb = tokens if select(tokens, tokens, ==) else indices;")
    assert (info.value.line, info.value.column) == (2, 15)


def test_long_chains_are_fine_not_errors():
    # 500 chained '+' once raised RecursionError; it is a legal program.
    program = rasp.parse("x = tokens" + " + 1" * 500 + ";")
    assert program([1, 2]) == [501, 502]


def test_caps_can_be_raised_per_call():
    text = "x = " + "(" * 70 + "tokens" + ")" * 70 + ";"
    with pytest.raises(rasp.RASPSyntaxError, match="parse_nesting=60"):
        rasp.parse(text)
    assert rasp.parse(text, limits=Limits(parse_nesting=80))(["a"]) == ["a"]


def test_repl_survives_every_bad_statement():
    out = io.StringIO()
    repl = Repl(out, limits=Limits(parse_steps=20_000))
    bad = [c for c in CASES if c.code.startswith("import rasp\nrasp.parse_program(")]
    for case in bad:
        text = case.code.split("rasp.parse_program(", 1)[1][:-1]
        repl.feed(eval(text) + "\n")  # noqa: S307 - our own repr'd literals
        repl.pending = ""  # an unfinished statement (missing ';') would swallow the next line
    repl.feed("ok = tokens;\n")
    shown = out.getvalue()
    assert repl.errors >= len(bad) - 1  # 'missing_semicolon' waits for more input instead
    assert 'ok("hello") = [h, e, l, l, o]' in shown
