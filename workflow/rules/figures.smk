rule figure:
    input:
        unpack(figure_inputs),
        code=code("plots", "figures", "stages/figure"),
    output:
        report(
            f"{DATASET}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="dataset noise {noise}, seed {seed}",
            subcategory=figure_stage,
            labels={"figure": "{figure}", "noise": "{noise}", "seed": "{seed}"},
        ),
    params:
        files=lambda wildcards, input: " ".join(f"{k}={input[k]}" for k in FIGURES[wildcards.figure]),
        contour_flags=contour_flags,
    conda:
        ENV
    log:
        log("figure_{figure}"),
    shell:
        "python -m pipeline.stages.figure {wildcards.figure} {params.files} --out {output}"
        " {params.contour_flags} > {log} 2>&1"
