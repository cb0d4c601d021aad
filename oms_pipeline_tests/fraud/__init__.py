"""Tests of the fraud model (issue 5)."""
