"""diffspec: one Voigt absorption line fitted five ways, as reproducible workflow stages."""

import warnings

# The workflow is written against ArviZ 0.23 on purpose (1.x needs Python >= 3.12); its notice
# about the coming 1.0 refactor would otherwise open every log.
warnings.filterwarnings(
    "ignore", message="\nArviZ is undergoing a major refactor", category=FutureWarning
)
