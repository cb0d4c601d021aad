"""Pure domain: order models and rules. Imports nothing else from the project."""
