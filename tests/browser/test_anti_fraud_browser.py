"""The question bank in a real browser: a file with one broken line shows that line's error on
the page, and nothing of the file is imported."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from selenium.webdriver.common.by import By

from tests.browser.test_console_browser import _press, _sign_in

pytestmark = pytest.mark.browser

# As officers keep banks in spreadsheets: Chinese headers; line 3's answer names no choice.
BANK = ("题目,类别,选项A,选项B,选项C,答案,解析\n"
        "陌生人要求您先交保证金才能放贷，应该怎么做？,fake_loan,拒绝并报警,先交一部分,照做,A,正规贷款不先收费。\n"
        "对方要求共享屏幕“协助退款”，应该怎么做？,screen_sharing,照做,挂断电话,先共享一会儿,X,屏幕共享会泄露验证码。\n")


def test_a_bank_with_one_broken_line_shows_its_error_and_imports_nothing(browser, live_server,
                                                                         shoot):
    _sign_in(browser, live_server)
    browser.get(f"{live_server}/console/demo/anti-fraud/questions")
    assert browser.find_element(By.TAG_NAME, "h2").text == "反诈题库"
    before = browser.find_element(By.ID, "questions-count").text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "题库.csv"
        path.write_text(BANK, encoding="utf-8")
        browser.find_element(By.ID, "import-file").send_keys(str(path))
        _press(browser, By.ID, "import-submit")
    error = browser.find_element(By.ID, "page-error").text
    assert "第 3 行" in error and "未导入任何题目" in error
    rows = browser.find_elements(By.CSS_SELECTOR, "#import-errors tbody tr")
    assert [row.get_attribute("data-line") for row in rows] == ["3"]
    assert "correct" in rows[0].text and "正确答案须为 3 个选项中的一个或多个" in rows[0].text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", rows[0])
    shoot("anti-fraud-import-error")
    assert browser.find_element(By.ID, "questions-count").text == before
    assert "陌生人要求您先交保证金才能放贷" not in browser.find_element(By.TAG_NAME, "main").text
