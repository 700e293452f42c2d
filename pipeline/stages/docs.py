"""The README's tables of the file layouts, generated from their declarations (a dataset's and
a study's files in pipeline.io, each method's own in pipeline.methods):
python -m pipeline.stages.docs (a test keeps the README in step)."""

from __future__ import annotations

from pipeline.io.files import LAYOUTS
from pipeline.io.layouts import POSTERIOR_ATTRS
from pipeline.methods import METHODS


def layouts_markdown() -> str:
    """The README's table of every file layout, generated from LAYOUTS."""
    lines = []
    for layout in LAYOUTS.values():
        lines += [f"#### `{layout.filename}`", "", layout.description, ""]
        lines += ["| name | kind | dims | units | meaning |", "|---|---|---|---|---|"]
        kinds = (("coord", layout.coords), ("var", layout.data_vars),
                 ("optional var", layout.optional_vars))  # fmt: skip
        for group, specs in kinds:
            for name, spec in specs.items():
                dims = ", ".join(spec.dims) or "scalar"
                lines.append(
                    f"| `{name}` | {group} | {dims} | {spec.units or '-'} | {spec.long_name} |"
                )
        for name, meaning in layout.attrs.items():
            lines.append(f"| `{name}` | attribute | - | - | {meaning} |")
        lines.append("")
    for layout in (m.layout for m in METHODS.values()):
        lines += [f"#### `{layout.filename}`", "", layout.description, ""]
        lines += ["| group | variable | meaning |", "|---|---|---|"]
        lines.append("| `posterior` | one per model parameter | the draws, dims chain, draw |")
        for group, variables in layout.groups.items():
            lines += [
                f"| `{group}` | `{name}` | {meaning} |" for name, meaning in variables.items()
            ]
        lines += [
            f"| `posterior` | attribute `{name}` | {meaning} |"
            for name, meaning in (POSTERIOR_ATTRS | dict(layout.posterior_attrs)).items()
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(layouts_markdown())
