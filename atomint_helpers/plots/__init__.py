"""Figures in the paper's style (matplotlib): plain axes, sans-serif type, one colour per element.

One module per chapter group; each function takes data (arrays, DataFrames or a loaded data set), draws into
``ax``/a new figure under :func:`paper_style`, and returns the figure, so a notebook cell is one call. The
figure standard every figure follows is written in :mod:`.style`. ``plots`` imports no analysis.
"""
from .budget import *  # noqa: F401,F403
from .data import *  # noqa: F401,F403
from .embeddings import *  # noqa: F401,F403
from .esp import *  # noqa: F401,F403
from .latent import *  # noqa: F401,F403
from .probe import *  # noqa: F401,F403
from .spatial import *  # noqa: F401,F403
from .style import *  # noqa: F401,F403
from .training import *  # noqa: F401,F403
