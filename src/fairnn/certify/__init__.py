"""fairnn.certify."""
