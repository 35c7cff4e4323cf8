"""An example host portal that embeds the Invoice Manager (see README.md)."""
