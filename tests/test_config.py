"""Settings: read from SEKG_* variables, checked at start-up, all documented in the README."""

from __future__ import annotations

from dataclasses import fields

import pytest

from conftest import PROJECT
from sekg.config import Settings, load_settings
from sekg.errors import ConfigError


def test_every_setting_is_in_the_readme():
    readme = (PROJECT / "README.md").read_text()
    missing = [f.name for f in fields(Settings) if f.name.startswith("SEKG_") and f.name not in readme
               and not f.name.startswith("SEKG_REMOTE_")]
    assert missing == []


def test_environment_is_read_and_converted(tmp_path):
    settings = load_settings({"SEKG_STORE": str(tmp_path), "SEKG_QUERY_TIMEOUT": "2.5", "SEKG_LOAD_SHIPPED": "no",
                              "SEKG_SERVICE_ALLOWLIST": "https://query.wikidata.org/sparql, https://example.org/s"})
    assert settings.SEKG_QUERY_TIMEOUT == 2.5
    assert settings.SEKG_LOAD_SHIPPED is False
    assert settings.SEKG_SERVICE_ALLOWLIST == ("https://query.wikidata.org/sparql", "https://example.org/s")


@pytest.mark.parametrize("environ, problem", [
    ({"SEKG_QUERY_TIMEOUT": "soon"}, "SEKG_QUERY_TIMEOUT"),
    ({"SEKG_QUERY_TIMEOUT": "0"}, "SEKG_QUERY_TIMEOUT must be positive"),
    ({"SEKG_PORT": "70000"}, "SEKG_PORT"),
    ({"SEKG_BASE_IRI": "https://example.org/no-slash"}, "SEKG_BASE_IRI"),
    ({"SEKG_TYPO": "1"}, "SEKG_TYPO: unknown setting"),
    ({"SEKG_STORE": "sparql"}, "SEKG_REMOTE_QUERY_URL is required"),
    ({"SEKG_LOAD_SHIPPED": "perhaps"}, "SEKG_LOAD_SHIPPED"),
    ({"SEKG_CONTACT_EMAIL": "not-an-address"}, "SEKG_CONTACT_EMAIL"),
    ({"SEKG_QUERY_THREADS": "0"}, "SEKG_QUERY_THREADS must be at least 1"),
    ({"SEKG_QUERY_ALLOCATOR": "/nowhere/libjemalloc.so.2"}, "SEKG_QUERY_ALLOCATOR: no library at /nowhere"),
])
def test_bad_settings_stop_the_start_with_a_message_naming_them(environ, problem):
    with pytest.raises(ConfigError) as error:
        load_settings(environ)
    assert problem in error.value.message


def test_serve_refuses_to_start_with_a_bad_setting(tmp_path):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "sekg.cli", "serve", "--store", str(tmp_path)],
                            env={"SEKG_QUERY_WORKERS": "0", "PATH": "/usr/bin:/bin"}, capture_output=True, text=True)
    assert result.returncode == 1
    assert "SEKG_QUERY_WORKERS must be at least 1" in result.stderr
