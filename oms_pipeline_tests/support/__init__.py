"""Helpers the tests import: orders, fakes, the fake Anthropic API, sandbox HTTP, paths, and what the two
halves of a split test module share. Not tests: no ``test_*`` module here, so pytest collects nothing."""
