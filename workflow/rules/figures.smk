rule figure:
    input:
        unpack(figure_inputs),
        code=figure_code,
    output:
        report(
            f"{DATASET}/figures/{{figure}}.png",
            caption="../report/figure.rst",
            category="dataset noise {noise}, seed {seed}",
            subcategory=figure_stage,
            labels={"figure": "{figure}", "noise": "{noise}", "seed": "{seed}"},
        ),
    params:
        files=lambda wildcards, input: " ".join(
            f"{k}={input[k]}" for k in FIGURES[wildcards.figure].inputs
        ),
        options=figure_flags,
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    log:
        log("figure_{figure}"),
    shell:
        "python -m pipeline.stages.figure {wildcards.figure} {params.files} --out {output}"
        " {params.options} > {log} 2>&1"
