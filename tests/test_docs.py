"""The documentation says what the project does: the README's commands are the ones CI runs,
and every setting and command is documented."""

import re

from phb.cli import COMMANDS
from tests.conftest import ROOT

README = (ROOT / "README.md").read_text()


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", README)


def test_ci_runs_the_readme_test_command_word_for_word():
    """.ci/run calls exactly the README's second quick-start command."""
    run_cmd, test_cmd = readme_commands()[:2]
    assert "streamlit run app.py" in run_cmd
    assert "pytest" in test_cmd
    assert test_cmd in (ROOT / ".ci" / "run").read_text().splitlines()


def test_every_command_and_setting_is_documented():
    """Each `python -m phb` command and each PHB_ environment variable appears in the README."""
    for name in COMMANDS:
        assert f"python -m phb {name}" in README
    used = set()
    for path in (ROOT / "phb").glob("*.py"):
        used |= set(re.findall(r'"(PHB_[A-Z_]+)"', path.read_text()))
    assert used == {"PHB_DATA", "PHB_WAREHOUSE"}
    for name in used:
        assert f"`{name}`" in README
