"""Test set-up: cheap password hashing, then the fixtures in tests/fixtures/."""

import os

os.environ.setdefault("WARDENS_PASSWORD_ITERATIONS", "1")
os.environ.setdefault("WARDENS_INSTANCE", os.path.join(os.path.dirname(__file__), "..",
                                                        "instance", "test"))

pytest_plugins = ["tests.fixtures.database", "tests.fixtures.app", "tests.fixtures.people",
                  "tests.fixtures.plugins", "tests.fixtures.texts", "tests.fixtures.access_matrix",
                  "tests.fixtures.console", "tests.fixtures.object_store"]
