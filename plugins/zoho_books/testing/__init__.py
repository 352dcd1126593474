"""Test tooling of this plugin (stand-in, kit, conformance harness): for tests, benchmarks and
the demo only. Nothing outside a ``testing`` package imports it; the stand-ins need the
``ledgersync[standins]`` extra."""
