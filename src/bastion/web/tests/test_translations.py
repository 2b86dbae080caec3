"""The Simplified Chinese catalogue (the UI's default language) is complete and in use.

- every entry of locale/zh_Hans/LC_MESSAGES/django.po is translated and none is fuzzy;
- each translation keeps its msgid's placeholders (%(name)s, %s, {name}) and HTML tags;
- the catalogue holds every msgid of the code: makemessages is run afresh into a temporary
  directory and each msgid it finds must be in the committed catalogue (skipped when GNU
  gettext, a developer tool, is not installed);
- the compiled .mo (git-ignored, built by `make setup`) matches the .po, and a page renders in
  Chinese by default and in English on request.

After adding UI strings: from src/bastion run
`bastion makemessages -l zh_Hans --no-obsolete --add-location file -i "*/tests/*"`,
translate the new (empty) entries, then `make setup` compiles the .mo.
"""

from __future__ import annotations

import gettext
import os
import re
import shutil
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings

import bastion
from bastion import settings as project_settings

SOURCE = Path(bastion.__file__).resolve().parent
LC_MESSAGES = SOURCE / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = LC_MESSAGES / "django.po"
MO = LC_MESSAGES / "django.mo"
GETTEXT_TOOLS = ("xgettext", "msguniq", "msgmerge", "msgattrib")

# printf-style (%(name)s, %s, %d, %.1f) and brace-style ({name}) placeholders; HTML tags. A
# literal %% is not a placeholder: a translation may drop it ("Sampled %" → "采样率").
PRINTF = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdifrxXoeEgGc%]")
BRACES = re.compile(r"\{\w*\}")
TAG = re.compile(r"</?[a-zA-Z][^>]*>")


def read_catalogue(path: Path):
    with path.open("rb") as f:
        return read_po(f)


def key(message) -> tuple:
    """What identifies an entry: its context, msgid and (for a plural) msgid_plural."""
    return (message.context, message.id)


def label(message) -> str:
    ids = message.id if isinstance(message.id, tuple) else (message.id,)
    context = f"[{message.context}] " if message.context else ""
    return context + " | ".join(repr(i) for i in ids)


def strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


def placeholders(text: str) -> tuple[frozenset, list, frozenset]:
    found = PRINTF.findall(text)
    named = frozenset(f for f in found if f.startswith("%("))
    positional = [f for f in found if not f.startswith("%(") and f != "%%"]
    return named, positional, frozenset(BRACES.findall(text))


@pytest.fixture(scope="module")
def catalogue():
    assert PO.exists(), f"{PO} is missing"
    return read_catalogue(PO)


@pytest.fixture(scope="module")
def messages(catalogue):
    return [m for m in catalogue if m.id]


def test_header_declares_chinese_plurals(catalogue):
    assert catalogue.plural_forms.replace(" ", "") == "nplurals=1;plural=0;"
    assert not catalogue.fuzzy, "the catalogue's header is marked fuzzy"


def test_every_entry_is_translated(messages):
    assert len(messages) > 100
    untranslated = [label(m) for m in messages if not all(s.strip() for s in strings(m))]
    assert not untranslated, f"{len(untranslated)} untranslated: " + "; ".join(untranslated)


def test_no_entry_is_fuzzy(messages):
    fuzzy = [label(m) for m in messages if m.fuzzy]
    assert not fuzzy, f"{len(fuzzy)} fuzzy (check, then drop the flag): " + "; ".join(fuzzy)


def test_translations_keep_placeholders_and_tags(messages):
    wrong = []
    for m in messages:
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        singular = placeholders(ids[0])
        for s in strings(m):
            if not s:
                continue
            got = placeholders(s)
            if len(ids) == 1:
                ok = got == singular
            else:
                # One form serves every count in Chinese: it carries what the English plural
                # does (the count included) and nothing the msgids do not have.
                plural = placeholders(ids[1])
                ok = (
                    plural[0] <= got[0] <= singular[0] | plural[0]
                    and got[1] == plural[1]
                    and got[2] == plural[2]
                )
            if not ok:
                wrong.append(f"{label(m)} → {s!r}")
            elif sorted(TAG.findall(ids[-1])) != sorted(TAG.findall(s)):
                wrong.append(f"{label(m)} → {s!r} (HTML tags differ)")
    assert not wrong, "translations with other placeholders than their msgid:\n" + "\n".join(wrong)


@pytest.fixture(scope="module")
def fresh_catalogue(tmp_path_factory):
    """The catalogue makemessages writes from the code as it is now, built in a temporary copy
    of the source so the committed one is not touched."""
    absent = [tool for tool in GETTEXT_TOOLS if shutil.which(tool) is None]
    if absent:
        pytest.skip(f"GNU gettext is not installed ({', '.join(absent)} not found)")
    work = tmp_path_factory.mktemp("messages")
    tree = work / "bastion"
    shutil.copytree(
        SOURCE,
        tree,
        ignore=shutil.ignore_patterns("locale", "tests", "__pycache__", "*.pyc", "*.mo"),
    )
    here = Path.cwd()
    os.chdir(tree)
    try:
        with override_settings(LOCALE_PATHS=[str(work / "locale")]):
            call_command(
                "makemessages",
                locale=["zh_Hans"],
                no_obsolete=True,
                ignore_patterns=["*/tests/*"],
                verbosity=0,
            )
    finally:
        os.chdir(here)
    return read_catalogue(work / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po")


def test_catalogue_holds_every_msgid_of_the_code(fresh_catalogue, messages):
    committed = {key(m) for m in messages}
    fresh = [m for m in fresh_catalogue if m.id]
    assert len(fresh) > 100
    missing = [label(m) for m in fresh if key(m) not in committed]
    assert not missing, (
        f"{len(missing)} msgids of the code are not in {PO.relative_to(SOURCE)}; regenerate it "
        "(see this module's docstring) and translate them:\n" + "\n".join(missing)
    )


def test_compiled_catalogue_matches(messages):
    assert MO.exists(), f"{MO} is missing: `make setup` compiles it from the .po"
    with MO.open("rb") as f:
        compiled = gettext.GNUTranslations(f)
    stale = []
    for m in messages:
        if isinstance(m.id, tuple):
            got = [
                compiled.npgettext(m.context, *m.id, 1)
                if m.context
                else compiled.ngettext(*m.id, 1)
            ]
        else:
            got = [compiled.pgettext(m.context, m.id) if m.context else compiled.gettext(m.id)]
        if got != strings(m)[:1]:
            stale.append(label(m))
    assert not stale, (
        f"{MO.name} is older than the .po ({len(stale)} entries differ): run `make setup`"
    )


@pytest.fixture
def project_language(settings):
    """The project's own default language: the test suite's conftest reads the English msgids
    (LANGUAGE_CODE = "en"), so put back what settings.py says for these tests."""
    settings.LANGUAGE_CODE = project_settings.LANGUAGE_CODE


def test_the_default_language_is_simplified_chinese():
    assert project_settings.LANGUAGE_CODE == "zh-hans"
    assert ("zh-hans", "简体中文") in project_settings.LANGUAGES
    assert ("en", "English") in project_settings.LANGUAGES


def test_login_page_is_chinese_by_default(project_language):
    html = Client().get("/login/").content.decode()
    assert "登录" in html and "用户名" in html and "密码" in html
    assert "Log in" not in html


@pytest.mark.parametrize(
    ("accept_language", "cookie"),
    [("en", None), ("en-GB,en;q=0.9", None), ("zh-CN,zh;q=0.9", "en")],
    ids=["accept-language", "accept-language-region", "language-cookie"],
)
def test_login_page_is_english_on_request(project_language, accept_language, cookie):
    client = Client(HTTP_ACCEPT_LANGUAGE=accept_language)
    if cookie:
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = cookie
    html = client.get("/login/").content.decode()
    assert "Log in" in html and "Username" in html and "Password" in html
    assert "登录" not in html
