"""Read queries of the DMP app, one module per use case: ``feeding`` and ``consultation``."""
