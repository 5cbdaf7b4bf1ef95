"""Project configuration that wires the apps together (the root URLconf and the REST API's router).

It may import every app and no app imports it, so it sits outside the layers that
``[tool.importlinter]`` in pyproject.toml checks (docs/architecture.md#dependencies)."""
