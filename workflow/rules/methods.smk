# Every entry of the config's `methods` fitted to each dataset (one rule for them all), their
# summaries, their posteriors and costs side by side, and the evidences of the models.


rule fit:
    input:
        unpack(fit_start),
        data=f"{DATASET}/data.nc",
        code=lambda wildcards: code("stages.fit", *ENTRIES[wildcards.entry].method.runs),
    output:
        f"{DATASET}/{{entry}}.nc",
    params:
        config=fit_config,
        start=lambda wildcards, input: f"--start {input.start}" if "start" in input.keys() else "",
    benchmark:
        bench("{entry}")
    log:
        log("{entry}"),
    threads: lambda wildcards: ENTRIES[wildcards.entry].method.threads(ENTRIES[wildcards.entry].settings)
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.fit {wildcards.entry} --data {input.data} {params.start}"
        " --out {output} --threads {threads} --config {params.config} > {log} 2>&1"


rule posterior_summary:
    input:
        fit=f"{DATASET}/{{entry}}.nc",
        code=code("stages.summary"),
    output:
        f"{DATASET}/{{entry}}_summary.csv",
    params:
        config=lambda wildcards: used_config("diagnostics", methods=[wildcards.entry]),
    log:
        log("{entry}_summary"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.summary --fits {wildcards.entry}={input.fit}"
        " --csv {wildcards.entry}={output} --config {params.config} > {log} 2>&1"


rule compare:
    input:
        fits=[f"{DATASET}/{name}.nc" for name in COMPARED],
        code=code("stages.compare"),
    output:
        nc=f"{DATASET}/compare.nc",
        csv=f"{DATASET}/compare.csv",
    params:
        fits=named_files(COMPARED),
        config=used_config("diagnostics.hdi_prob", methods=COMPARED),
    log:
        log("compare"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.compare --fits {params.fits} --out {output.nc}"
        " --csv {output.csv} --config {params.config} > {log} 2>&1"


rule cost:
    input:
        data=f"{DATASET}/data.nc",
        fits=[f"{DATASET}/{name}.nc" for name in COMPARED],
        compare=f"{DATASET}/compare.nc",
        code=code("stages.cost"),
    output:
        nc=f"{DATASET}/cost.nc",
        csv=f"{DATASET}/cost.csv",
    params:
        fits=named_files(COMPARED),
        config=used_config("model", *(f"line.{k}" for k in MODEL.known),
                           *(f"priors.{n}" for n in MODEL.names), methods=COMPARED),
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
        " --fits {params.fits} --out {output.nc} --csv {output.csv} --threads {threads}"
        " --config {params.config} > {log} 2>&1"


rule evidence:
    input:
        fits=[f"{DATASET}/{name}.nc" for name in EVIDENCE],
        code=code("stages.evidence"),
    output:
        nc=f"{DATASET}/evidence.nc",
        csv=f"{DATASET}/evidence.csv",
    params:
        fits=named_files(EVIDENCE),
        config=used_config(methods=EVIDENCE),
    log:
        log("evidence"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.evidence --fits {params.fits} --out {output.nc}"
        " --csv {output.csv} --config {params.config} > {log} 2>&1"
