rule chi2_map:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.chi2_map"),
    output:
        f"{DATASET}/chi2_map.nc",
    params:
        grid=config["chi2_map"],
    resources:
        mem_mb=2500,
        runtime=10,
    conda:
        ENV
    benchmark:
        bench("chi2_map")
    log:
        log("chi2_map"),
    threads: 1
    shell:
        "python -m pipeline.stages.chi2_map --data {input.data} --out {output} --threads {threads}"
        " --logN {params.grid[logN][min]} {params.grid[logN][max]} {params.grid[logN][num]}"
        " --logbeta {params.grid[logbeta][min]} {params.grid[logbeta][max]}"
        " {params.grid[logbeta][num]} > {log} 2>&1"


rule optimize:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.optimize"),
    output:
        f"{DATASET}/optimize.nc",
    params:
        settings=config["optimize"],
    resources:
        mem_mb=1000,
        runtime=10,
    conda:
        ENV
    benchmark:
        bench("optimize")
    log:
        log("optimize"),
    threads: 1
    shell:
        "python -m pipeline.stages.optimize --data {input.data} --out {output} --threads {threads}"
        " --init {params.settings[init][logN]} {params.settings[init][logbeta]}"
        " --eta {params.settings[steepest_descent_eta]}"
        " --learning-rate {params.settings[adam_learning_rate]}"
        " --steps {params.settings[steps]} > {log} 2>&1"
