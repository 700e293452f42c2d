# Beyond the tutorial: nested sampling (with the evidence of two line shapes), a gradient-free
# MCMC baseline, and every method's posterior and cost side by side.


rule nested:  # the Voigt line's run is nested.nc, the Gaussian line's nested_gaussian.nc
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.nested"),
    output:
        f"{DATASET}/nested{{line_shape_suffix}}.nc",
    params:
        priors=prior_flags(),
        nested=flags(config["nested"]),
        line_shape=lambda wildcards: LINE_SHAPE_OF_SUFFIX[wildcards.line_shape_suffix],
    benchmark:
        bench("nested{line_shape_suffix}")
    log:
        log("nested{line_shape_suffix}"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.nested --data {input.data} --out {output}"
        " --threads {threads} {params.priors} --line-shape {params.line_shape}"
        " {params.nested} > {log} 2>&1"


rule gradient_free:
    input:
        data=f"{DATASET}/data.nc",
        laplace=f"{DATASET}/laplace.nc",
        code=code("stages.gradient_free"),
    output:
        f"{DATASET}/gradient_free.nc",
    params:
        priors=prior_flags(),
        gradient_free=flags(config["gradient_free"]),
    benchmark:
        bench("gradient_free")
    log:
        log("gradient_free"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.gradient_free --data {input.data} --laplace {input.laplace}"
        " --out {output} --threads {threads} {params.priors} {params.gradient_free}"
        " > {log} 2>&1"


rule gradient_free_summary:
    input:
        gradient_free=f"{DATASET}/gradient_free.nc",
        code=code("stages.summary"),
    output:
        f"{DATASET}/gradient_free_summary.csv",
    params:
        diagnostics=config["diagnostics"],
    log:
        log("gradient_free_summary"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.summary --gradient-free {input.gradient_free}"
        " --gradient-free-csv {output} --hdi-prob {params.diagnostics[hdi_prob]}"
        " --min-ess {params.diagnostics[min_ess]} --max-r-hat {params.diagnostics[max_r_hat]}"
        " > {log} 2>&1"


rule cost:
    input:
        data=f"{DATASET}/data.nc",
        nuts=f"{DATASET}/nuts.nc",
        svi=f"{DATASET}/svi.nc",
        laplace=f"{DATASET}/laplace.nc",
        nested=f"{DATASET}/nested.nc",
        gradient_free=f"{DATASET}/gradient_free.nc",
        compare=f"{DATASET}/compare.nc",
        code=code("stages.cost"),
    output:
        nc=f"{DATASET}/cost.nc",
        csv=f"{DATASET}/cost.csv",
    params:
        priors=prior_flags(),
    log:
        log("cost"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.cost --data {input.data} --compare {input.compare}"
        " --nuts {input.nuts} --svi {input.svi} --laplace {input.laplace}"
        " --nested {input.nested} --gradient-free {input.gradient_free}"
        " --out {output.nc} --csv {output.csv} --threads {threads} {params.priors} > {log} 2>&1"


rule evidence:
    input:
        voigt=f"{DATASET}/nested.nc",
        gaussian=f"{DATASET}/nested_gaussian.nc",
        code=code("stages.evidence"),
    output:
        nc=f"{DATASET}/evidence.nc",
        csv=f"{DATASET}/evidence.csv",
    log:
        log("evidence"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.evidence --voigt {input.voigt} --gaussian {input.gaussian}"
        " --out {output.nc} --csv {output.csv} > {log} 2>&1"
