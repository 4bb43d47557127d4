"""The show file: its model, reader and checks, from TOML to a frozen ``Show``."""
