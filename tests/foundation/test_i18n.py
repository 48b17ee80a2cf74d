import pytest

from evalplat import i18n_tools


@pytest.mark.parametrize(("header", "expected", "absent"), [
    ("zh-CN,zh;q=0.9,en;q=0.8", "登录", "Sign in"),
    ("zh-TW,zh;q=0.9", "登录", "Sign in"),
    ("en-US,en;q=0.9", "Sign in", "登录"),
    ("en-GB,en;q=0.9,zh-CN;q=0.5", "Sign in", "登录"),
    ("fr-FR,fr;q=0.9", "登录", "Sign in"),
])
def test_accept_language(client, header, expected, absent):
    html = client.get("/login", headers={"Accept-Language": header}).get_data(as_text=True)
    assert expected in html
    assert absent not in html


def test_no_header_defaults_to_chinese(client):
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_language_switch_sticks(client):
    client.post("/language/en", data={"next": "/login"})
    html = client.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9"}).get_data(as_text=True)
    assert "Sign in" in html
    client.post("/language/zh_Hans", data={"next": "/login"})
    assert "登录" in client.get("/login").get_data(as_text=True)


def test_every_user_facing_message_has_a_chinese_translation():
    missing = i18n_tools.untranslated()
    assert missing == {}, "untranslated messages (run python -m evalplat.i18n_tools update): " + repr(missing)


def test_no_message_is_translated_two_ways():
    # every catalogue is merged into one at run time, so a second translation would silently lose
    clashes = i18n_tools.conflicts()
    assert clashes == {}, f"same English text, different Chinese (use a more specific message id): {clashes}"
