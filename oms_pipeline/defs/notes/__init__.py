"""Order-note assets: the parsed notes decisions read, and the local engine's evaluation."""
