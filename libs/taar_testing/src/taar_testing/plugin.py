"""pytest entry point of taar-testing (fixtures are added here)."""
