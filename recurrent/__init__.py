"""The shared library of recurrent layers, data sources and metrics.

It knows no task: `tasks` builds models from it and `pipelines` runs them.
"""

from recurrent.errors import UserInputError

__all__ = ["UserInputError"]
