"""Foundations with no torch: errors, atomic files, lazy exports, registries, units."""
