"""Identity documents besides the resident ID card: each format accepted and refused on
real-looking samples (check digits computed, not copied), the uniqueness rule per (kind,
number) in the services and in the database, guardians, "no phone", registered address,
masking and the logged reveal."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from bastion.core.errors import DomainError
from bastion.core.privacy import personal_data_reveal
from bastion.geo import services
from bastion.geo.identity import (
    id_check_char,
    make_id_number,
    make_pr_2023_number,
    make_residence_permit_number,
    mask_document,
    mask_id_number,
    parse_document,
    parse_id_number,
)
from bastion.geo.models import DocKind, Household, Resident

PR_2023 = make_pr_2023_number("11", "840", dt.date(1985, 3, 15), 21)  # US national in Beijing
HK_PERMIT_RESIDENCE = make_residence_permit_number("81", dt.date(1990, 7, 1), 13)
TW_PERMIT_RESIDENCE = make_residence_permit_number("83", dt.date(1978, 2, 28), 22)


def _wrong_check(number: str) -> str:
    good = id_check_char(number[:17])
    bad = next(c for c in "0123456789X" if c != good)
    return number[:17] + bad


@pytest.mark.parametrize(
    ("kind", "raw", "stored"),
    [
        (DocKind.ID_CARD, make_id_number("110101", dt.date(1985, 3, 15), 1), None),
        (DocKind.HMT_RESIDENCE, HK_PERMIT_RESIDENCE, None),
        (DocKind.HMT_RESIDENCE, make_residence_permit_number("82", dt.date(2001, 1, 9), 4), None),
        (DocKind.HMT_RESIDENCE, TW_PERMIT_RESIDENCE, None),
        (DocKind.PR_CARD, PR_2023, None),
        (DocKind.PR_CARD, "USA110503150021", None),  # 2017 card: ISO alpha-3 + 12 digits
        (DocKind.PR_CARD, "gbr 31 900101 1234", "GBR319001011234"),
        (DocKind.PASSPORT_CN, "E12345678", None),
        (DocKind.PASSPORT_CN, "EA1234567", None),
        (DocKind.PASSPORT_CN, "G23456789", None),
        (DocKind.PASSPORT_CN, "DE1234567", None),
        (DocKind.PASSPORT, "C01X00T47", None),  # German style
        (DocKind.PASSPORT, "123456789", None),  # US style, digits only
        (DocKind.PASSPORT, "TR0123456", None),
        (DocKind.HK_MACAO_PERMIT, "H12345678", None),
        (DocKind.HK_MACAO_PERMIT, "M1234567801", "M12345678"),  # issue count dropped
        (DocKind.HK_MACAO_PERMIT, "h 1234 5678", "H12345678"),
        (DocKind.TAIWAN_PERMIT, "01234567", None),
        (DocKind.TAIWAN_PERMIT, "0123456701(B)", "01234567"),  # old booklet
    ],
)
def test_each_document_format_is_accepted(kind, raw, stored):
    info = parse_document(kind, raw)
    assert info.kind == kind
    assert info.number == (stored or raw)


@pytest.mark.parametrize(
    ("kind", "raw", "words"),
    [
        (DocKind.HMT_RESIDENCE, _wrong_check(HK_PERMIT_RESIDENCE), "check digit"),
        (DocKind.HMT_RESIDENCE, make_id_number("110101", dt.date(1990, 7, 1), 13), "810000"),
        (DocKind.HMT_RESIDENCE, "84000019900701013X", "810000"),
        (
            DocKind.HMT_RESIDENCE,
            make_residence_permit_number("81", dt.date(1990, 7, 1), 13)[:17],
            "17 digits",
        ),
        (DocKind.PR_CARD, _wrong_check(PR_2023), "check digit"),
        (DocKind.PR_CARD, make_id_number("110101", dt.date(1985, 3, 15), 21), "start with 9"),
        (DocKind.PR_CARD, "USA990503150021", "province code 99"),
        (DocKind.PR_CARD, "USA111302300021", "impossible birth date"),
        (DocKind.PR_CARD, "US1110503150021", "2017 card"),
        (DocKind.PASSPORT_CN, "E1234567", "Chinese passport"),
        (DocKind.PASSPORT_CN, "EO1234567", "Chinese passport"),  # no O after E
        (DocKind.PASSPORT_CN, "K12345678", "Chinese passport"),
        (DocKind.PASSPORT, "ABCDEFGH", "at least one digit"),
        (DocKind.PASSPORT, "A12", "5 to 17"),
        (DocKind.HK_MACAO_PERMIT, "K12345678", "H or M"),
        (DocKind.HK_MACAO_PERMIT, "H1234567", "H or M"),
        (DocKind.HK_MACAO_PERMIT, "H123456789", "H or M"),  # 9 digits
        (DocKind.TAIWAN_PERMIT, "1234567", "8 digits"),
        (DocKind.TAIWAN_PERMIT, "T1234567", "8 digits"),
    ],
)
def test_each_document_format_is_refused_with_the_document_named(kind, raw, words):
    with pytest.raises(ValidationError) as e:
        parse_document(kind, raw)
    assert words in e.value.messages[0]


def test_residence_permits_and_2023_cards_give_birth_date_and_sex():
    info = parse_document(DocKind.PR_CARD, PR_2023)
    assert info.birth_date == dt.date(1985, 3, 15) and info.sex == "M"  # sequence 021 is odd
    info = parse_document(DocKind.HMT_RESIDENCE, TW_PERMIT_RESIDENCE)
    assert info.birth_date == dt.date(1978, 2, 28) and info.sex == "F"


def test_a_permit_number_is_not_taken_as_an_id_card():
    for number in (PR_2023, HK_PERMIT_RESIDENCE):
        with pytest.raises(ValidationError) as e:
            parse_id_number(number)
        assert "choose that document kind" in e.value.messages[0]


def test_document_numbers_are_masked_by_their_length():
    assert mask_document("E12345678") == "E1*****78"
    assert mask_document("H12345678") == "H1*****78"
    assert mask_document("01234567") == "01****67"
    assert mask_document("GBR319001011234") == "GBR3*******1234"
    assert mask_id_number("E12345678") == "E1*****78"  # lists mask any number the same way
    assert mask_id_number(PR_2023) == PR_2023[:4] + "*" * 10 + PR_2023[-4:]


@pytest.fixture
def household(tree) -> Household:
    return Household.objects.filter(unit=tree.units[0]).order_by("pk").first()


def _foreigner(household, **extra) -> Resident:
    fields = {
        "name": "John Smith",
        "doc_kind": DocKind.PASSPORT,
        "doc_number": "C01X00T47",
        "birth_date": dt.date(1980, 4, 2),
        "sex": "M",
        "relation": "other",
    }
    return services.resident_create(household=household, **{**fields, **extra})


def test_a_foreigner_with_a_passport_is_registered_without_an_id_number(household):
    r = _foreigner(household)
    r.refresh_from_db()
    assert (r.id_number, r.doc_kind, r.doc_number) == (None, "passport", "C01X00T47")
    assert (r.birth_date, r.sex) == (dt.date(1980, 4, 2), "M")


def test_a_passport_without_a_birth_date_names_the_fields(household):
    with pytest.raises(DomainError) as e:
        _foreigner(household, birth_date=None, sex="")
    assert {p.field for p in e.value.problems} == {"birth_date", "sex"}


def test_a_document_number_is_registered_once_per_kind(household):
    _foreigner(household)
    with pytest.raises(DomainError) as e:
        _foreigner(household, name="Another")
    assert [(p.field, p.message) for p in e.value.problems] == [
        ("doc_number", "This Foreign passport number is already registered.")
    ]
    # The same characters as another kind of document are another document.
    assert _foreigner(
        household, name="Other kind", doc_kind=DocKind.TAIWAN_PERMIT, doc_number="01234567"
    )
    assert _foreigner(household, name="Same digits", doc_number="01234567")


def test_the_database_refuses_a_second_resident_with_the_same_document(household):
    r = _foreigner(household)
    copy = Resident(
        household=household,
        name="Copy",
        doc_kind=r.doc_kind,
        doc_number=r.doc_number,
        birth_date=r.birth_date,
        sex="M",
    )
    copy.locate(household)
    with pytest.raises(IntegrityError), transaction.atomic():
        copy.save()


def test_the_database_refuses_a_document_in_the_wrong_column(household):
    bad = Resident(
        household=household,
        name="Bad",
        doc_kind=DocKind.PASSPORT,
        doc_number="",
        birth_date=dt.date(1980, 1, 1),
        sex="M",
    )
    bad.locate(household)
    with pytest.raises(IntegrityError), transaction.atomic():
        bad.save()


def _child(household, guardian, **extra) -> Resident:
    fields = {
        "name": "小宝",
        "doc_kind": DocKind.NONE,
        "birth_date": dt.date.today().replace(year=dt.date.today().year - 3, day=1),
        "sex": "F",
        "relation": "child",
        "guardian": guardian,
    }
    return services.resident_create(household=household, **{**fields, **extra})


def test_a_child_without_a_document_is_registered_under_a_guardian_of_the_household(household):
    parent = Resident.objects.filter(household=household).order_by("pk").first()
    child = _child(household, parent)
    child.refresh_from_db()
    assert (child.id_number, child.doc_number, child.guardian_id) == (None, "", parent.pk)
    assert list(parent.wards.all()) == [child]


def test_guardian_rules(household, tree):
    parent = Resident.objects.filter(household=household).order_by("pk").first()
    elsewhere = Resident.objects.exclude(household=household).order_by("pk").first()
    with pytest.raises(DomainError) as e:
        _child(household, None)
    assert [p.field for p in e.value.problems] == ["guardian"]
    with pytest.raises(DomainError) as e:
        _child(household, elsewhere)
    assert "does not live in this household" in e.value.problems[0].message
    with pytest.raises(DomainError) as e:
        _child(household, parent, birth_date=dt.date(1990, 1, 1))
    assert {p.field for p in e.value.problems} == {"doc_kind", "guardian"}
    child = _child(household, parent)
    with pytest.raises(DomainError) as e:  # a child cannot be another child's guardian
        _child(household, child, name="二宝")
    assert "must be an adult with a document" in e.value.problems[0].message
    assert Resident.objects.filter(doc_kind=DocKind.NONE).count() == 1


def test_no_phone_is_explicit_and_excludes_a_number(household):
    elder = Resident.objects.filter(household=household).order_by("pk").first()
    services.resident_update(resident=elder, phone="", no_phone=True)
    elder.refresh_from_db()
    assert (elder.phone, elder.no_phone) == ("", True)
    with pytest.raises(DomainError) as e:
        services.resident_update(resident=elder, phone="13800138000")
    assert [p.field for p in e.value.problems] == ["no_phone"]


def test_registered_elsewhere_is_the_registered_address(household):
    r = Resident.objects.filter(household=household).order_by("pk").first()
    assert not r.registered_elsewhere
    services.resident_update(resident=r, registered_address="  河南省信阳市浉河区  ")
    r.refresh_from_db()
    assert r.registered_address == "河南省信阳市浉河区" and r.registered_elsewhere


def test_revealing_a_document_number_is_logged(household, tree, reveal_log):
    r = _foreigner(household)
    admin = tree.users["admin"]
    assert personal_data_reveal(user=admin, subject=r, field="doc_number") == "C01X00T47"
    log = reveal_log.objects.get(subject_id=r.pk)
    assert (log.field, log.user) == ("doc_number", admin)


def test_the_search_page_filters_residents_registered_elsewhere_and_without_phone(
    household, tree, client
):
    r = Resident.objects.filter(household=household).order_by("pk").first()
    services.resident_update(resident=r, registered_address="河南省信阳市", phone="", no_phone=True)
    foreigner = _foreigner(household)
    client.force_login(tree.users["admin"])
    page = client.get("/geo/search/", {"only": "elsewhere"})
    assert [x.pk for x in page.context["results"]] == [r.pk]
    assert "河南省信阳市" in page.content.decode()
    assert [x.pk for x in client.get("/geo/search/", {"only": "no_phone"}).context["results"]] == [
        r.pk
    ]
    by_document = client.get("/geo/search/", {"q": "C01X00T47"}).context["results"]
    assert [x.pk for x in by_document] == [foreigner.pk]
    assert "C0*****47" in client.get("/geo/search/", {"q": "C01X00T47"}).content.decode()
    other = tree.users["other_grid"]
    client.force_login(other)
    assert client.get("/geo/search/", {"only": "elsewhere"}).context["results"] == []
