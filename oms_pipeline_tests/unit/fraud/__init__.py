"""Tests of the fraud model."""
