"""The library's version, in a module of its own so that nothing inside the
package imports the package root to learn it (the build reads it here too)."""

__version__ = "0.1.0"
