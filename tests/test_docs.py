"""The documentation says what the project does: the README's commands are the ones CI runs,
and every setting and command is documented."""

import re
from pathlib import Path

from phb.cli import COMMANDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_ci_runs_the_readme_test_command_word_for_word():
    """.ci/run calls exactly the README's second quick-start command, then the slow tier's."""
    run_cmd, test_cmd, slow_cmd = readme_commands()[:3]
    assert "streamlit run app.py" in run_cmd
    assert "pytest" in test_cmd
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    assert test_cmd in ci
    # and the slower tier after it, so what guards each promise still runs in CI
    assert "-m slow" in slow_cmd and slow_cmd in ci and ci.index(slow_cmd) > ci.index(test_cmd)


def test_every_command_and_setting_is_documented():
    """Each `python -m phb` command and each PHB_ environment variable appears in the README."""
    for name in COMMANDS:
        assert f"python -m phb {name}" in README
    used = set()
    for path in [*(ROOT / "phb").glob("*.py"), *(ROOT / "pages").glob("*.py"), ROOT / "app.py"]:
        used |= set(re.findall(r'"(PHB_[A-Z_]+)"', path.read_text()))
    assert used == {"PHB_DATA", "PHB_PERTURBATION_KEY", "PHB_WAREHOUSE"} | {
        "PHB_STORE",
        "PHB_ACCESSIBILITY_CONTACT",
        "PHB_PUBLISHING",
        "PHB_PUBLISHERS",
        "PHB_UPLOAD_LIMIT_MB",
        "PHB_ENGINE",
        "PHB_SPARK_REMOTE",
        "PHB_SPARK_TABLES",
        "PHB_VALIDATE_CHARTS",
    }
    for name in used:
        assert f"`{name}`" in README


def readme_layout() -> str:
    """The code block under the README's Layout heading."""
    section = README.split("## Layout", 1)[1].split("\n## ", 1)[0]
    return re.search(r"```\n(.+?)\n```", section, re.S).group(1)


def test_the_readme_layout_names_every_module_in_phb():
    """Each module file in phb/ (and any sub-package) is named in the Layout block; __init__.py files
    are left out, as they hold no code of their own."""
    layout = readme_layout()
    modules = sorted(p.name for p in (ROOT / "phb").rglob("*.py") if p.name != "__init__.py")
    assert modules, "no modules found in phb/"
    missing = [name for name in modules if not re.search(rf"(?<![\w.]){re.escape(name)}\b", layout)]
    assert missing == []


CITING = [ROOT / "README.md", ROOT / "app.py", ROOT / "data" / "MANIFEST.json"] + [
    path for folder in ("phb", "pages", "queries", "tests", "benchmarks") for path in (ROOT / folder).rglob("*.*")
]
CITING = [p for p in CITING if p.suffix in {".py", ".sql", ".md", ".json"}]


def test_every_docs_path_cited_exists():
    """A path under docs/ named in the code, the queries, the tests, the README or the manifest is a
    file in the repository."""
    cited = {
        (path.relative_to(ROOT), found)
        for path in CITING
        for found in re.findall(r"(?<![\w/])docs/[\w./-]*\w", path.read_text(encoding="utf-8"))
    }
    assert {found for _, found in cited} >= {"docs/DATA_CONTRACT.md", "docs/PILOT_FACTS.md"}
    assert [(str(where), found) for where, found in sorted(cited) if not (ROOT / found).is_file()] == []


def test_the_contract_and_the_facts_are_cited_by_their_place_in_the_repository():
    """The data contract and the pilot facts are always cited as docs/DATA_CONTRACT.md and
    docs/PILOT_FACTS.md, so a reader can find them (this file, which names them to look for
    them, aside)."""
    bare = []
    for path in CITING:
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"DATA_CONTRACT|PILOT_FACTS", text):
            if text[match.start() - 5 : match.start()] != "docs/" or text[match.end() : match.end() + 3] != ".md":
                bare.append((str(path.relative_to(ROOT)), text[max(0, match.start() - 30) : match.end() + 10]))
    assert bare == []


def contract_doc_tables() -> dict[str, list[tuple[str, str, str]]]:
    """docs/DATA_CONTRACT.md's tables, read from the Markdown: table -> [(column, type, rule)]."""
    text = (ROOT / "docs" / "DATA_CONTRACT.md").read_text(encoding="utf-8")
    tables = {}
    for heading, block in re.findall(r"^## (\w+): [^\n]*\n((?:\|[^\n]*\n)+)", text, re.M):
        rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in block.splitlines()[2:]]
        tables[heading] = [(name, kind, rule) for name, kind, rule in rows]
    return tables


def test_the_contract_in_code_is_the_contract_in_docs():
    """phb.contract's tables, columns, types and allowed values are those docs/DATA_CONTRACT.md
    lists, read independently from its Markdown tables (backticked values in a rule, asides in
    brackets left out, are the allowed values where the code has a list; the spend categories are
    listed below their table)."""
    from phb import contract

    docs = contract_doc_tables()
    assert list(docs) == list(contract.TABLES)
    for table, columns in contract.TABLES.items():
        assert [(n, k) for n, k, _ in docs[table]] == [(c.name, c.type) for c in columns], table
        for column, (_, _, rule) in zip(columns, docs[table], strict=True):
            listed = set(re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", rule)))  # asides in brackets aside
            if column.allowed and listed:
                assert listed == set(column.allowed), (table, column.name)
    text = (ROOT / "docs" / "DATA_CONTRACT.md").read_text(encoding="utf-8")
    categories = re.search(r"^Categories: (.+?)\n\n", text, re.M | re.S).group(1)
    assert re.findall(r"`(\w+)`", categories) == list(contract.SPEND_CATEGORIES)
