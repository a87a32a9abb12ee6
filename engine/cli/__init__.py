"""The headless CLI: one module per verb, each printing JSON with `--json`."""
