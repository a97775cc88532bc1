"""comfy_ui_app.settings: every flag and variable declared once, read and checked the same way;
and the Gradio version the app's patches of Gradio internals were written for."""
from __future__ import annotations

import re
from importlib.metadata import version
from pathlib import Path

import pytest

from comfy_ui_app.settings import DEFAULT_SERVER, SettingsParser, command_line, web_app
from comfy_ui_app.settings.core import COUNT, SERVERS, SWITCH, Setting

REPO = Path(__file__).resolve().parents[1]

DECLARED = [
    Setting("count", ("--count",), "TEST_COUNT", COUNT, 2, "how many of them there are"),
    Setting("loud", ("--loud",), "TEST_LOUD", SWITCH, False, "say it out loud, or not", action="switch"),
    Setting("servers", ("--servers",), "TEST_SERVERS", SERVERS, [DEFAULT_SERVER], "where the servers are"),
    Setting("only_env", (), "TEST_ONLY", help="a variable without a flag"),
]


def parse(argv=(), env=None):
    parser = SettingsParser(prog="prog", env=env or {})
    parser.declare(DECLARED)
    return parser.parse_args(list(argv))


def refused(argv, env, capsys) -> str:
    with pytest.raises(SystemExit) as stopped:
        parse(argv, env)
    lines = capsys.readouterr().err.strip().splitlines()
    assert stopped.value.code == 2 and len(lines) == 1, lines
    return lines[0]


def test_the_flag_wins_then_the_variable_then_the_default():
    args = parse()
    assert (args.count, args.loud, args.servers, args.only_env, args.given) == (
        2, False, [DEFAULT_SERVER], None, frozenset())
    env = {"TEST_COUNT": "3", "TEST_LOUD": "yes", "TEST_SERVERS": "http://a/, http://b", "TEST_ONLY": "x"}
    args = parse([], env)
    assert (args.count, args.loud, args.servers, args.only_env) == (3, True, ["http://a", "http://b"], "x")
    assert args.given == {"count", "loud", "servers", "only_env"}
    args = parse(["--count", "5", "--no-loud", "--servers", "http://c"], env)
    assert (args.count, args.loud, args.servers) == (5, False, ["http://c"])


def test_an_empty_variable_counts_as_unset():
    args = parse([], {"TEST_COUNT": "", "TEST_LOUD": "  ", "TEST_SERVERS": ""})
    assert (args.count, args.loud, args.servers, args.given) == (2, False, [DEFAULT_SERVER], frozenset())


@pytest.mark.parametrize("word, value", [
    ("1", True), ("true", True), ("Yes", True), ("ON", True), ("0", False), ("false", False), ("no", False),
    ("off", False),
])
def test_switches_take_the_usual_words(word, value):
    assert parse([], {"TEST_LOUD": word}).loud is value


@pytest.mark.parametrize("argv, env, line", [
    ([], {"TEST_LOUD": "2"},
     "prog: error: TEST_LOUD must be 1 or 0 (or true/false, yes/no, on/off), got '2' (the variable of --loud)"),
    ([], {"TEST_COUNT": "0"}, "prog: error: TEST_COUNT must be a whole number of at least 1, got '0' "
                              "(the variable of --count)"),
    (["--count", "many"], {}, "prog: error: --count must be a whole number of at least 1, got 'many'"),
    (["--servers", " , "], {"TEST_SERVERS": "http://a"},
     "prog: error: --servers must be one ComfyUI address or several separated by commas, got ' , '"),
])
def test_a_bad_value_is_one_line_naming_where_it_came_from(argv, env, line, capsys):
    assert refused(argv, env, capsys) == line


def test_help_never_reads_the_values(capsys):
    with pytest.raises(SystemExit) as stopped:
        parse(["--help"], {"TEST_COUNT": "many", "TEST_LOUD": "maybe"})
    assert stopped.value.code == 0 and "--count" in capsys.readouterr().out


def test_every_declared_setting_is_explained_and_named_once():
    every = [web_app.ALL, command_line.GENERATE, command_line.FIELDS, command_line.CONVERT,
             command_line.HISTORY]
    for settings in every:
        names = [s.name for s in settings]
        assert len(names) == len(set(names)), names
        for setting in settings:
            assert len(setting.help) > 15, setting.name
            assert setting.flags or setting.env, setting.name


def _python_files():
    return [REPO / "app.py", *(p for p in (REPO / "comfy_ui_app").rglob("*.py") if "settings" not in p.parts)]


def test_only_the_settings_read_the_environment():
    readers = re.compile(r"environ\.get\(|environ\[|getenv\(")
    found = [str(p.relative_to(REPO)) for p in _python_files() if readers.search(p.read_text())]
    assert not found, f"read the environment outside comfy_ui_app/settings: {found}"


def test_the_default_server_is_defined_once():
    found = [str(p.relative_to(REPO)) for p in _python_files() if "DEFAULT_SERVER =" in p.read_text()]
    assert not found, found


def test_installed_gradio_is_the_minor_version_requirements_pin():
    """The app patches Gradio internals (comfy_ui_app.ui._blocks, comfy_ui_app.ui._page_view): they are checked
    against one minor version, which requirements.txt pins and README's Space runs."""
    pin = re.search(r"^gradio\[oauth\]>=(\d+)\.(\d+),<(\d+)\.(\d+)\s*$", (REPO / "requirements.txt").read_text(),
                    re.M)
    assert pin, "requirements.txt must pin gradio to one minor version: gradio[oauth]>=X.Y,<X.Y+1"
    low, high = (int(pin[1]), int(pin[2])), (int(pin[3]), int(pin[4]))
    assert high == (low[0], low[1] + 1), "the pin must allow exactly one minor version"
    installed = tuple(int(part) for part in version("gradio").split(".")[:2])
    assert installed == low, f"gradio {version('gradio')} is installed; requirements.txt pins {low[0]}.{low[1]}"
    space = re.search(r"^sdk_version: (\d+)\.(\d+)\.", (REPO / "README.md").read_text(), re.M)
    assert (int(space[1]), int(space[2])) == low, "README's sdk_version runs another Gradio on the Space"
