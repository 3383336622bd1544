"""The station file: a whole station as one TOML document, validated, planned, applied, exported."""
