from __future__ import annotations

import pytest

from openstation.catalog import DEFAULT_VERSION, MODELS, DsmVersion, ProductLine, model_named
from openstation.errors import UserInputError


def test_catalog_has_the_required_models_with_their_product_lines() -> None:
    lines = {name: model.line for name, model in MODELS.items()}
    assert lines["DS918+"] is ProductLine.DISKSTATION
    assert lines["DS3617xs"] is ProductLine.DISKSTATION
    assert lines["DS220+"] is ProductLine.DISKSTATION
    assert lines["RS1221+"] is ProductLine.RACKSTATION
    assert lines["FS2500"] is ProductLine.FLASHSTATION


@pytest.mark.parametrize(("model", "server_name"), [
    ("DS918+", "DiskStation"), ("RS1221+", "RackStation"), ("FS2500", "FlashStation"),
])
def test_product_line_sets_default_server_name(model: str, server_name: str) -> None:
    assert model_named(model).line.default_server_name == server_name


def test_model_lookup_ignores_case_and_names_known_models_on_error() -> None:
    assert model_named("ds3617XS").name == "DS3617xs"
    with pytest.raises(UserInputError, match="DS918\\+"):
        model_named("DS9999")


def test_version_strings() -> None:
    assert DEFAULT_VERSION.full == "6.2.3-25426"
    assert DEFAULT_VERSION.display == "DSM 6.2.3-25426"
    assert DEFAULT_VERSION.short == "6.2.3"
    assert DEFAULT_VERSION.version_string == "DSM 6.2.3-25426 Update 3"


def test_version_parse_round_trip_and_errors() -> None:
    assert DsmVersion.parse("DSM 6.2.3-25426") == DsmVersion(6, 2, 3, 25426, 0)
    assert DsmVersion.parse("6.2.4-25556-2").update == 2
    for bad in ("", "6.2", "six.two.three-1", "6.2.3-x"):
        with pytest.raises(UserInputError):
            DsmVersion.parse(bad)
