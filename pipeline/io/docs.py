"""The README's tables of the file layouts, generated from pipeline.io.layouts:
python -m pipeline.io.docs (a test keeps the README in step)."""

from __future__ import annotations

from pipeline.io.layouts import INFERENCE_LAYOUTS, LAYOUTS


def layouts_markdown() -> str:
    """The README's table of every file layout, generated from LAYOUTS."""
    lines = []
    for layout in LAYOUTS.values():
        lines += [f"#### `{layout.filename}`", "", layout.description, ""]
        lines += ["| name | kind | dims | units | meaning |", "|---|---|---|---|---|"]
        for group, specs in (("coord", layout.coords), ("var", layout.data_vars)):
            for name, spec in specs.items():
                dims = ", ".join(spec.dims) or "scalar"
                lines.append(
                    f"| `{name}` | {group} | {dims} | {spec.units or '-'} | {spec.long_name} |"
                )
        for name, meaning in layout.attrs.items():
            lines.append(f"| `{name}` | attribute | - | - | {meaning} |")
        lines.append("")
    for layout in INFERENCE_LAYOUTS.values():
        lines += [f"#### `{layout.filename}`", "", layout.description, ""]
        lines += ["| group | variable | meaning |", "|---|---|---|"]
        for group, variables in layout.groups.items():
            lines += [
                f"| `{group}` | `{name}` | {meaning} |" for name, meaning in variables.items()
            ]
        lines += [
            f"| `posterior` | attribute `{name}` | {meaning} |"
            for name, meaning in layout.posterior_attrs.items()
        ]
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(layouts_markdown())
