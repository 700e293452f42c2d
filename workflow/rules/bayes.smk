rule nuts:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.nuts"),
    output:
        f"{DATASET}/nuts.nc",
    params:
        priors=prior_flags(),
        nuts=config["nuts"],
    benchmark:
        bench("nuts")
    log:
        log("nuts"),
    # parallel chains run side by side, one core each
    threads: config["nuts"]["num_chains"] if config["nuts"]["chain_method"] == "parallel" else 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.nuts --data {input.data} --out {output}"
        " --threads {threads} {params.priors}"
        " --num-warmup {params.nuts[num_warmup]} --num-samples {params.nuts[num_samples]}"
        " --num-chains {params.nuts[num_chains]} --chain-method {params.nuts[chain_method]}"
        " --target-accept-prob {params.nuts[target_accept_prob]} --seed {params.nuts[seed]}"
        " > {log} 2>&1"


rule svi:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.svi"),
    output:
        f"{DATASET}/svi.nc",
    params:
        priors=prior_flags(),
        svi=config["svi"],
    benchmark:
        bench("svi")
    log:
        log("svi"),
    threads: 1
    resources:
        mem_mb=2000,
        runtime=30,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.svi --data {input.data} --out {output}"
        " --threads {threads} {params.priors}"
        " --num-steps {params.svi[num_steps]} --learning-rate {params.svi[learning_rate]}"
        " --num-draws {params.svi[num_draws]} --seed {params.svi[seed]} > {log} 2>&1"


rule posterior_summaries:
    input:
        nuts=f"{DATASET}/nuts.nc",
        svi=f"{DATASET}/svi.nc",
        code=code("stages.summary"),
    output:
        nuts=f"{DATASET}/nuts_summary.csv",
        svi=f"{DATASET}/svi_summary.csv",
    params:
        diagnostics=config["diagnostics"],
    log:
        log("summaries"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.summary --nuts {input.nuts} --svi {input.svi}"
        " --nuts-csv {output.nuts} --svi-csv {output.svi} --hdi-prob {params.diagnostics[hdi_prob]}"
        " --min-ess {params.diagnostics[min_ess]} --max-r-hat {params.diagnostics[max_r_hat]}"
        " > {log} 2>&1"


rule compare:
    input:
        nuts=f"{DATASET}/nuts.nc",
        svi=f"{DATASET}/svi.nc",
        laplace=f"{DATASET}/laplace.nc",
        nested=f"{DATASET}/nested.nc",
        gradient_free=f"{DATASET}/gradient_free.nc",
        code=code("stages.compare"),
    output:
        nc=f"{DATASET}/compare.nc",
        csv=f"{DATASET}/compare.csv",
    params:
        hdi_prob=config["diagnostics"]["hdi_prob"],
    log:
        log("compare"),
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.compare --nuts {input.nuts} --svi {input.svi}"
        " --laplace {input.laplace} --nested {input.nested} --gradient-free {input.gradient_free}"
        " --out {output.nc} --csv {output.csv} --hdi-prob {params.hdi_prob} > {log} 2>&1"


rule laplace:
    input:
        data=f"{DATASET}/data.nc",
        optimize=f"{DATASET}/optimize.nc",
        code=code("stages.laplace"),
    output:
        f"{DATASET}/laplace.nc",
    params:
        priors=prior_flags(),
        hdi_prob=config["diagnostics"]["hdi_prob"],
    benchmark:
        bench("laplace")
    log:
        log("laplace"),
    threads: 1
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.laplace --data {input.data} --optimize {input.optimize}"
        " --out {output} --threads {threads} {params.priors} --hdi-prob {params.hdi_prob}"
        " > {log} 2>&1"
