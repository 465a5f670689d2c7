"""Which values each variable of a discrete program can take, from its structure alone
(exact, no data): tokens and positions by construction, a head's output within its value
variable's values (a head with no match copies the value at BOS, one of them), an MLP's output
within its table's image."""

from __future__ import annotations

from interp.programs.program import DiscreteProgram


def variable_domains(program: DiscreteProgram) -> tuple[list[list[int]], list[list[int]]]:
    """(categorical domains, numerical domains): sorted value indices per variable."""
    shape = program.shape
    removed = program.removed
    cat_names, num_names = shape.cat_var_names(), shape.num_var_names()
    cat: list[list[int]] = [list(range(len(shape.tokens))), list(range(shape.n_ctx))]
    num: list[list[int]] = [[1]]

    def add(target: list[list[int]], names: list[str], values: set[int]) -> None:
        name = names[len(target)]
        target.append([removed[name]] if name in removed else sorted(values))

    for layer in program.layers:
        for head in layer.cat_heads:
            add(cat, cat_names, set(cat[head.v]))
        for _ in layer.num_heads:
            add(num, num_names, set(range(shape.n_ctx + 1)))
        images = [{m.table[i][j] for i in cat[m.a] for j in cat[m.b]} for m in layer.cat_mlps]
        images += [{m.table[i][j] for i in num[m.a] for j in num[m.b]} for m in layer.num_mlps]
        for image in images:
            add(cat, cat_names, image)
    return cat, num
