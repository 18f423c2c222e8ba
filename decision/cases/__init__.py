"""Decision cases kept with the package, each a tree file plus scenario files."""
