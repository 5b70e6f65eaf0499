"""Fixtures for the flow tests; the transcript helper lives in ``parent_transcript``."""

from __future__ import annotations

import pytest
from parent_transcript import Chat, load_test_content

from flows.content import Content


@pytest.fixture
def content() -> Content:
    return load_test_content()


@pytest.fixture
def chat(content: Content) -> Chat:
    return Chat(content)
