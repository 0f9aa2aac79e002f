"""Every entry point declared in setup.cfg is installed and resolves to a registered function."""
import configparser
import importlib
from importlib.metadata import entry_points
from pathlib import Path

import pytest
from spacy import registry

SETUP_CFG = Path(__file__).resolve().parents[1] / "setup.cfg"
REGISTRIES = {
    "spacy_factories": registry.factories,
    "spacy_architectures": registry.architectures,
    "spacy_tokenizers": registry.tokenizers,
    "spacy_scorers": registry.scorers,
    "spacy_misc": registry.misc,
    "spacy_readers": registry.readers,
    "spacy_cli": registry.cli,
}


def declared():
    parser = configparser.ConfigParser()
    parser.optionxform = str
    parser.read(SETUP_CFG)
    section = parser["options.entry_points"]
    for group, block in section.items():
        for line in filter(None, (raw.strip() for raw in block.splitlines())):
            name, target = (part.strip() for part in line.split("=", 1))
            yield group, name, target


DECLARED = list(declared())


def test_something_is_declared():
    groups = {group for group, _, _ in DECLARED}
    assert {"spacy_architectures", "spacy_tokenizers", "console_scripts"} <= groups


@pytest.mark.parametrize("group, name, target", DECLARED, ids=[f"{g}:{n}" for g, n, _ in DECLARED])
def test_entry_point_resolves(group, name, target):
    module, attr = target.split(":")
    func = getattr(importlib.import_module(module), attr)
    installed = {ep.name: ep.value for ep in entry_points(group=group)}
    assert installed.get(name) == target, "entry point not installed: run `pip install -e .` again"
    if group in REGISTRIES:
        registered = REGISTRIES[group].get(name)
        if group == "spacy_factories":
            assert callable(registered)
        else:
            assert registered is func
