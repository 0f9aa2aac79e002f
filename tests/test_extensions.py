"""Installing the Doc attributes: idempotent, and never over someone else's attribute."""
import pytest
from spacy.tokens import Doc

from spacy_biobert import get_relations, install_extensions
from spacy_biobert.extensions import ExtensionConflictError, install_extension
from spacy_biobert.relations import CONCEPT_RELATIONS_ATTR, RELATIONS_ATTR


def test_install_is_idempotent_and_refuses_foreign_attributes():
    install_extensions()
    install_extensions()
    assert Doc.has_extension(RELATIONS_ATTR) and Doc.has_extension(CONCEPT_RELATIONS_ATTR)
    Doc.remove_extension(RELATIONS_ATTR)
    Doc.set_extension(RELATIONS_ATTR, default=None)
    try:
        with pytest.raises(ExtensionConflictError, match=RELATIONS_ATTR):
            install_extensions()
    finally:
        Doc.remove_extension(RELATIONS_ATTR)
        install_extensions()
    assert get_relations is Doc.get_extension(RELATIONS_ATTR)[2]


def test_plain_attribute_installs_once_and_conflicts_on_another_default():
    name = "biobert_test_plain_attribute"
    try:
        install_extension(name, default=None)
        install_extension(name, default=None)
        assert Doc.get_extension(name)[0] is None
        with pytest.raises(ExtensionConflictError, match=name):
            install_extension(name, default="other")
    finally:
        Doc.remove_extension(name)
