"""docs/rules.md is generated from the rule registry: it must match the registry."""

from srcgrad.rules import docs


def test_rules_page_is_current():
    current = docs.PATH.read_text() if docs.PATH.exists() else ""
    assert current == docs.render(), f"{docs.PATH} is stale: run `{docs.COMMAND}` and commit the result"
