"""Browser tests of the console in a real headless Chromium (make test-browser)."""
