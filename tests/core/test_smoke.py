from click.testing import CliRunner

from core.cli.main import build_cli


def test_version_names_the_program() -> None:
    result = CliRunner().invoke(build_cli(), ["--version"])
    assert result.exit_code == 0
    assert "ledgersync" in result.output
