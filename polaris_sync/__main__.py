"""`python -m polaris_sync`: the `polaris-sync` command without its script."""

from polaris_sync.cli import main

main()
