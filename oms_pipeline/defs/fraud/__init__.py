"""Fraud: disputes landed as labels, the trained model with its promotion check, and the order scores."""
