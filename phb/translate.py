"""DuckDB SQL to Spark SQL, by sqlglot: the one copy of the SQL in queries/ runs on both engines.

The queries are written in DuckDB's dialect and sqlglot (pinned in requirements-spark.txt) turns each
into Spark's: functions, casts, date arithmetic, FILTER clauses, GROUPING SETS, null ordering
(DuckDB sorts nulls last, Spark first: sqlglot writes NULLS LAST where it matters), list indexing
(DuckDB counts from 1, Spark from 0) and the `$name` parameters, which become Spark's `:name`
parameter markers, still bound by the engine and never written into the text.

Where DuckDB had a form of its own and a shared one exists, the query files use the shared one
(generate_series rather than range, grouping() of one column at a time), and
where the engines differ on a corner (Spark makes no row for the empty grouping set over no rows)
the query says what it wants. Four things have no Spark counterpart that sqlglot writes, and one
is typed differently; the small transforms below handle them, each applied to sqlglot's tree
before Spark's SQL is written:

1. DuckDB macros (queries/macros/): Spark SQL has none, so each call is replaced by the macro's
   body with the call's arguments in place of its parameters (a table macro becomes a subquery).
2. `max(x, n)`, DuckDB's n largest values as a list: on Spark `slice(sort_array(collect_list(x),
   false), 1, n)`, the same list; an element of it, `...[i]`, is read with `try_element_at`, which
   gives null past the end as DuckDB does (Spark's `[i]` stops the query there).
3. `md5_number(x) % 256`, the record key (the MD5 digest's first byte, as DuckDB reads the digest
   as a little-endian number): on Spark `conv(substring(md5(x), 1, 2), 16, 10)`, the same byte from
   the digest's hex. Any other use of md5_number cannot be translated and says so.

4. `list_extract(list, i)`, a list's element at position i counted from 1 (null past the end): on
   Spark `try_element_at(list, i)`, which counts from 1 and gives null past the end too. Position 0
   differs (DuckDB gives null, Spark stops the query), so a query keeps i at 1 or more. The query
   files read an element at a computed position this way, not as `list[i]`: sqlglot moves a
   bracket's index from DuckDB's counting to Spark's only where it can tell the index is a whole
   number.

5. Division and averages: DuckDB's `/` and avg() give a DOUBLE, while Spark keeps DECIMAL operands
   (a literal such as 365.25 is one) in DECIMAL, cut to 6 decimal places; so on Spark the divisor
   and avg()'s argument are cast to DOUBLE, which gives DuckDB's values.

A query that sqlglot cannot turn into Spark's SQL raises UntranslatableQuery with the reason.
"""

from __future__ import annotations

from functools import cache

import sqlglot
from sqlglot import exp

from phb.config import QUERIES_DIR


class UntranslatableQuery(ValueError):
    """sqlglot could not turn a DuckDB query into Spark's dialect; the message says why."""


@cache
def macros() -> dict[str, tuple[list[str], exp.Expression, bool]]:
    """Each macro in queries/macros/: its parameters, its body and whether it is a table macro."""
    found = {}
    for path in sorted((QUERIES_DIR / "macros").glob("*.sql")):
        tree = sqlglot.parse_one(path.read_text(), read="duckdb")
        if not (isinstance(tree, exp.Create) and str(tree.args.get("kind", "")).upper() == "MACRO"):
            raise UntranslatableQuery(f"queries/macros/{path.name} is not one CREATE MACRO statement")
        udf = tree.this
        params = [p.name for p in udf.expressions]
        body = tree.expression
        # a table macro is declared `as table`; a value macro's body may still be a query (a scalar subquery)
        is_table = any(
            isinstance(prop, exp.ReturnsProperty) and prop.args.get("is_table")
            for prop in (tree.args["properties"].expressions if tree.args.get("properties") else [])
        )
        found[udf.this.name.lower()] = (params, body, is_table)
    return found


def _call_name(node: exp.Expression) -> str | None:
    """The function name a node calls, if it is a call sqlglot did not recognise (a macro's)."""
    if isinstance(node, exp.Anonymous):
        return str(node.this).lower()
    return None


def _substitute(body: exp.Expression, params: list[str], args: list[exp.Expression], name: str) -> exp.Expression:
    if len(args) != len(params):
        raise UntranslatableQuery(f"macro {name} takes {len(params)} arguments, given {len(args)}")
    values = dict(zip(params, args))

    def swap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in values:
            return values[node.name].copy()
        return node

    return body.copy().transform(swap)


def expand_macros(tree: exp.Expression) -> exp.Expression:
    """Every call of a macro in queries/macros/ replaced by its body (repeated for macros in macros)."""
    known = macros()
    for _ in range(10):
        changed = False

        def inline(node: exp.Expression) -> exp.Expression:
            nonlocal changed
            if isinstance(node, exp.Table) and _call_name(node.this) in known:
                name = _call_name(node.this)
                params, body, is_table = known[name]
                if not is_table:
                    raise UntranslatableQuery(f"macro {name} returns a value, not a table")
                changed = True
                alias = node.alias or name
                return exp.Subquery(
                    this=_substitute(body, params, node.this.expressions, name),
                    alias=exp.TableAlias(this=exp.to_identifier(alias)),
                )
            name = _call_name(node)
            if name in known:
                params, body, is_table = known[name]
                if is_table:
                    raise UntranslatableQuery(f"macro {name} returns a table, not a value")
                changed = True
                return exp.Paren(this=_substitute(body, params, node.expressions, name))
            return node

        tree = tree.transform(inline)
        if not changed:
            return tree
    raise UntranslatableQuery("macros call each other more than 10 deep")


def _top_n(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `max(x, n)` (the n largest values, largest first) and its elements, for Spark."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Bracket) and _is_top_n(node.this):
            if len(node.expressions) != 1:
                raise UntranslatableQuery("a list of the largest values is read one element at a time only")
            index = node.expressions[0]
            # sqlglot holds indexes 0-based; try_element_at counts from 1
            one_based = exp.Add(this=index.copy(), expression=exp.Literal.number(1))
            if isinstance(index, exp.Literal) and not index.is_string:
                one_based = exp.Literal.number(int(index.this) + 1)
            return exp.Anonymous(this="try_element_at", expressions=[_top_n_list(node.this), one_based])
        if _is_top_n(node):
            return _top_n_list(node)
        return node

    return tree.transform(rewrite)


def _is_top_n(node: exp.Expression) -> bool:
    inner = node.this if isinstance(node, exp.Filter) else node
    if isinstance(inner, exp.Paren):
        return _is_top_n(inner.this)
    return isinstance(inner, exp.Max) and inner.args.get("count") is not None


def _top_n_list(node: exp.Expression) -> exp.Expression:
    """`max(x, n)` (perhaps with FILTER, perhaps in brackets) as slice(sort_array(collect_list(x), false), 1, n)."""
    while isinstance(node, exp.Paren):
        node = node.this
    agg = node.this if isinstance(node, exp.Filter) else node
    count = agg.args["count"].copy()
    collected: exp.Expression = exp.Anonymous(this="collect_list", expressions=[agg.this.copy()])
    if isinstance(node, exp.Filter):
        collected = exp.Filter(this=collected, expression=node.expression.copy())
    sorted_desc = exp.Anonymous(this="sort_array", expressions=[collected, exp.false()])
    return exp.Anonymous(this="slice", expressions=[sorted_desc, exp.Literal.number(1), count])


def _record_keys(tree: exp.Expression) -> exp.Expression:
    """`md5_number(x) % 256` (the digest's first byte) as Spark's conv(substring(md5(x), 1, 2), 16, 10)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if (
            isinstance(node, exp.Mod)
            and _call_name(node.this) == "md5_number"
            and isinstance(node.expression, exp.Literal)
            and node.expression.this == "256"
        ):
            (arg,) = node.this.expressions
            hex_pair = exp.Substring(
                this=exp.MD5(this=arg.copy()), start=exp.Literal.number(1), length=exp.Literal.number(2)
            )
            conv = exp.Anonymous(this="conv", expressions=[hex_pair, exp.Literal.number(16), exp.Literal.number(10)])
            return exp.Cast(this=conv, to=exp.DataType.build("int"))
        return node

    tree = tree.transform(rewrite)
    if any(_call_name(n) == "md5_number" for n in tree.find_all(exp.Anonymous)):
        raise UntranslatableQuery("md5_number is translated only as md5_number(...) % 256 (a record key)")
    return tree


def _list_elements(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `list_extract(list, i)` (from 1, null past the end) as Spark's try_element_at(list, i)."""

    def rewrite(node: exp.Expression) -> exp.Expression:
        if _call_name(node) == "list_extract":
            if len(node.expressions) != 2:
                raise UntranslatableQuery("list_extract takes a list and a position")
            return exp.Anonymous(this="try_element_at", expressions=[e.copy() for e in node.expressions])
        return node

    return tree.transform(rewrite)


def _double_arithmetic(tree: exp.Expression) -> exp.Expression:
    """DuckDB's `a / b` and avg(x) are DOUBLE: on Spark, `a / cast(b as double)` and avg(cast(x as double))."""

    def as_double(node: exp.Expression) -> exp.Expression:
        return exp.Cast(this=node, to=exp.DataType.build("double"))

    def rewrite(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Div):
            node.set("expression", as_double(node.expression))
        elif isinstance(node, exp.Avg):
            node.set("this", as_double(node.this))
        return node

    return tree.transform(rewrite)


def to_spark(sql: str) -> str:
    """The Spark SQL of a DuckDB query from queries/: macros inlined, then sqlglot with the
    transforms above. Raises UntranslatableQuery with the reason when it cannot be done."""
    try:
        trees = sqlglot.parse(sql, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        raise UntranslatableQuery(f"sqlglot could not read the DuckDB SQL: {exc}") from exc
    trees = [t for t in trees if t is not None]
    if len(trees) != 1:
        raise UntranslatableQuery(f"a query file holds one statement, not {len(trees)}")
    tree = _double_arithmetic(_list_elements(_record_keys(_top_n(expand_macros(trees[0])))))
    try:
        return tree.sql(dialect="spark", unsupported_level=sqlglot.ErrorLevel.RAISE, comments=False)
    except sqlglot.errors.UnsupportedError as exc:
        raise UntranslatableQuery(f"sqlglot has no Spark form for part of it: {exc}") from exc


@cache
def spark_query(name: str) -> str:
    """The Spark SQL of queries/<name>.sql."""
    from phb.queries import query_text

    try:
        return to_spark(query_text(name))
    except UntranslatableQuery as exc:
        raise UntranslatableQuery(f"queries/{name}.sql: {exc}") from exc
