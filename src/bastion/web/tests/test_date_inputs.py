"""Every date input carries an ISO value in every language: <input type="date"> reads only
YYYY-MM-DD and shows empty for the Chinese "1982/10/25" (issue 14 item 7)."""

import datetime as dt

import pytest
from django import forms
from django.utils import translation

from bastion.geo.forms import ResidentForm
from bastion.requests.forms import AssignForm

BIRTH = dt.date(1982, 10, 25)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_plain_date_widget_renders_iso(language):
    with translation.override(language):
        html = forms.DateInput(attrs={"type": "date"}).render("d", BIRTH)
    assert 'value="1982-10-25"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_meetings_suggested_deadline_shows_in_the_date_input(language):
    with translation.override(language):
        html = str(AssignForm(initial={"due_on": dt.date(2022, 4, 30)})["due_on"])
    assert 'type="date"' in html
    assert 'value="2022-04-30"' in html


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_birth_date_shows_in_the_residents_form(language):
    with translation.override(language):
        html = ResidentForm.base_fields["birth_date"].widget.render("birth_date", BIRTH)
    assert 'value="1982-10-25"' in html


@pytest.mark.parametrize("typed", ["1982-10-25", "1982/10/25"])
def test_chinese_spellings_are_still_read(typed):
    with translation.override("zh-hans"):
        assert forms.DateField().clean(typed) == BIRTH
