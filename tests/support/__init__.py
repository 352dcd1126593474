"""Shared test support: real plugin implementations and helpers used by several test files."""
