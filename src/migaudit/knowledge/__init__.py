"""What migaudit knows about SSB: dated classifications and measure vocabulary."""
