"""Fulfillment assets: the 3PL handoff and packing slips of each run's released plans."""
