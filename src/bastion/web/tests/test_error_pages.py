"""A page outside the login's area or past its role answers in the site's own layout and in
Chinese by default, not Django's bare English page; the 500 page needs no database or context."""

from django.core.exceptions import PermissionDenied
from django.template.loader import render_to_string
from django.test import override_settings
from django.utils import translation
from django.views.defaults import permission_denied


@override_settings(DEBUG=False)
def test_a_missing_page_is_styled_and_chinese(client, tree):
    client.force_login(tree.users["grid"])
    response = client.get("/geo/node/999999999/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 404
    text = response.content.decode()
    assert "页面不存在" in text and "返回首页" in text and 'class="topbar"' in text


def test_a_refusal_is_styled_and_chinese(rf, tree):
    request = rf.get("/anything/")
    request.user = tree.users["volunteer"]
    with translation.override("zh-hans"):
        response = permission_denied(request, PermissionDenied())
    text = response.content.decode()
    assert response.status_code == 403
    assert "无权操作" in text and "返回首页" in text and 'class="topbar"' in text


def test_the_500_page_renders_without_a_request():
    html = render_to_string("500.html")
    assert "出错了" in html and "Something went wrong" in html
