"""The console's core pages, one module per area."""
