import re
from datetime import timedelta

from bot.i18n import catalog, human_duration, pick_language, t


def test_every_text_exists_in_both_languages_with_the_same_placeholders() -> None:
    ru, en = catalog("ru"), catalog("en")
    assert set(ru) == set(en)
    for key in ru:
        assert set(re.findall(r"(?<!\{)\{(\w+)\}", ru[key])) == set(
            re.findall(r"(?<!\{)\{(\w+)\}", en[key])
        ), key


def test_member_language_wins_where_supported() -> None:
    assert pick_language("en-US", "ru") == "en"
    assert pick_language("de", "en") == "en"
    assert pick_language(None, "ru") == "ru"


def test_texts_and_durations_are_localised() -> None:
    assert t("en", "level.veteran") == "veteran"
    assert t("ru", "level.veteran") == "ветеран"
    assert human_duration("ru", timedelta(minutes=5)) == "5 мин"
    assert human_duration("en", timedelta(days=7, hours=2)) == "1 wk 2 h"


def test_every_setting_is_described_and_explained_in_both_languages() -> None:
    from bot.services.settings import SettingsService

    keys = SettingsService.__new__(SettingsService)
    keys.specs = __import__("bot.services.setting_values", fromlist=["specs"]).specs("ru", "UTC")
    for language in ("ru", "en"):
        texts = catalog(language)
        for key in keys.specs:
            assert f"settings.about.{key}" in texts, (language, key)
            assert f"settings.expected.{key}" in texts, (language, key)
