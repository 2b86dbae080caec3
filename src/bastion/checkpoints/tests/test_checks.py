"""Plates, temperatures and documents as a checkpoint crew types them: real-looking samples
accepted and refused, with the normalised form expected written out by hand."""

from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from bastion.checkpoints.checks import document_check, phone_check, temperature_check
from bastion.core.plates import NEW_ENERGY, ORDINARY, TRAILER, plate_parse

ACCEPTED = [
    ("京A12345", "京A12345", ORDINARY),
    ("粤B1C234", "粤B1C234", ORDINARY),
    ("沪A·D8866", "沪AD8866", ORDINARY),  # 7 characters: an ordinary plate with a D in it
    ("川a 88888", "川A88888", ORDINARY),
    ("蒙K AB123", "蒙KAB123", ORDINARY),
    ("鲁H1234挂", "鲁H1234挂", TRAILER),
    ("冀F·0571挂", "冀F0571挂", TRAILER),
    ("苏E1234学", "苏E1234学", TRAILER),
    ("沪AD12345", "沪AD12345", NEW_ENERGY),
    ("浙AFA1234", "浙AFA1234", NEW_ENERGY),  # F, a digit or letter, 4 digits
    ("京A12345D", "京A12345D", NEW_ENERGY),
    ("粤B 12345F", "粤B12345F", NEW_ENERGY),
]

REFUSED = [
    "",
    "A12345",  # no province
    "港A12345",  # Hong Kong's cross-border plates: out of scope
    "使014578",  # embassy: out of scope
    "京A1234",  # too short
    "京A123456",  # 8 characters but not new energy
    "京AX12345",  # new energy needs D or F
    "沪ADA1B34",  # small new energy: 4 digits at the end
    "京A1234D5",  # large new energy: D or F last
    "京AO1234",  # O reads as 0
    "京I12345",  # I reads as 1
    "鲁H12345挂",  # a trailer has 4 before 挂
    "京A12挂34",
    "京A1234567",
]


@pytest.mark.parametrize(("raw", "number", "series"), ACCEPTED)
def test_plates_accepted(raw, number, series):
    plate = plate_parse(raw)
    assert (plate.number, plate.series) == (number, series)


@pytest.mark.parametrize("raw", REFUSED)
def test_plates_refused(raw):
    with pytest.raises(ValidationError):
        plate_parse(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (34, Decimal("34.0")),
        ("36.55", Decimal("36.6")),
        (43, Decimal("43.0")),
        (37.3, Decimal("37.3")),
    ],
)
def test_temperature_accepted(raw, expected):
    assert temperature_check(raw) == expected


@pytest.mark.parametrize("raw", [33.9, "43.1", 98.6, 0, "abc", None])
def test_temperature_refused(raw):
    with pytest.raises(ValidationError):
        temperature_check(raw)


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("id_card", "11010519491231002x", "11010519491231002X"),
        ("passport_cn", "e1234 5678", "E12345678"),
        ("passport", "X1234567", "X1234567"),
        ("hk_macao_permit", "H1234567801", "H12345678"),
        ("taiwan_permit", "12345678", "12345678"),
    ],
)
def test_documents_accepted(kind, raw, expected):
    assert document_check(kind, raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw"),
    [
        ("id_card", "110105194912310021"),  # checksum
        ("none", ""),
        ("driving_licence", "123456"),
        ("passport_cn", "K12345678"),
    ],
)
def test_documents_refused(kind, raw):
    with pytest.raises(ValidationError):
        document_check(kind, raw)


def test_phone():
    assert phone_check("+86 139 1234 5678") == "13912345678"
    assert phone_check(" ") == ""
    with pytest.raises(ValidationError):
        phone_check("12345")
