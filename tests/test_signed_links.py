"""Stateless signed tokens for links in mails (hamseda.signed_links)."""

from hypothesis import given
from hypothesis import strategies as st

from hamseda import signed_links


def test_a_token_names_its_parent_and_row_under_its_own_salt_only():
    token = signed_links.make_token("purpose-a", 12, 345)
    assert signed_links.read_token("purpose-a", token) == (12, 345)
    assert signed_links.read_row_id("purpose-a", token, 12) == 345
    # Another parent, another purpose, or a changed character: nothing.
    assert signed_links.read_row_id("purpose-a", token, 13) is None
    assert signed_links.read_token("purpose-b", token) is None
    assert signed_links.read_token("purpose-a", token.replace("345", "346")) is None
    assert signed_links.read_token("purpose-a", token + "x" * 300) is None


@given(st.text(max_size=300))
def test_any_text_is_refused_calmly(text):
    assert signed_links.read_token("purpose-a", text) is None
