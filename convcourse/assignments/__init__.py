"""Hidden-test material, one package per assignment (``aNN_name``), each with the same inner modules:
``cases`` (seeded configurations), ``references`` (Keras-backed), ``mistakes`` (known mistakes, to name them)."""
