"""`python -m taar_profile_bigtable` runs the CLI."""

from taar_profile_bigtable.cli import main

main()
