"""The claims table (docs/claims.md) stays true: every registered check cites an anchor the table
lists and is named in a row; every name a row gives exists (a check, a scenario, an outcome or an
axis value); ids are unique. A new check without its row fails here."""

from __future__ import annotations

from harness.checks import registry
from harness.claims import claims_file, load_claims, plain
from harness.outcomes import Outcome
from harness.scenarios import load_scenarios
from harness.variants import AXES


def test_the_table_is_found_and_has_rows():
    claims = load_claims()
    assert claims_file().name == "claims.md"
    assert len(claims) >= 15 and claims[0].id == "C1"
    assert len({c.id for c in claims}) == len(claims), "a claim id is used twice"
    for c in claims:
        assert c.promise and "`" not in c.promise


def test_every_check_cites_an_anchor_of_the_table_and_is_named_in_a_row():
    claims = load_claims()
    anchors = {c.anchor for c in claims}
    named = {n for c in claims for n in c.verified_by}
    for check in registry().values():
        assert check.claim in anchors, f"check {check.name!r} cites {check.claim}, which docs/claims.md does not list"
        assert check.name in named, f"check {check.name!r} is named in no row of docs/claims.md (verified by)"


def test_every_name_in_the_table_exists():
    known = set(registry()) | set(load_scenarios().scenarios) | {o.value for o in Outcome}
    known |= {v for a in AXES for v in a.values}
    for c in load_claims():
        unknown = [n for n in c.verified_by if n not in known]
        assert not unknown, f"{c.id} names {unknown}: no such check or scenario"


def test_plain_text_drops_code_marks():
    assert plain("a ``StreamingResponse`` and `media_type`") == "a StreamingResponse and media_type"
