rule simulate_data:
    input:
        code=code("stages.data"),
    output:
        f"{DATASET}/data.nc",
    params:
        config=used_config("model", "line", "truth", "precision", "datasets.reference_noise",
                           "datasets.common_random_numbers"),
        sigma_noise=sigma_noise,
    resources:
        mem_mb=500,
        runtime=5,
    conda:
        ENV
    benchmark:
        bench("data")
    log:
        log("data"),
    threads: 1
    shell:
        "python -m pipeline.stages.data --out {output} --threads {threads}"
        " --sigma-noise {params.sigma_noise} --seed {wildcards.seed} --config {params.config}"
        " > {log} 2>&1"


rule chi2_map:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.chi2_map"),
    output:
        f"{DATASET}/chi2_map.nc",
    params:
        config=used_config("model", *(f"line.{k}" for k in MODEL.known), "chi2_map"),
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
        " --config {params.config} > {log} 2>&1"


rule optimize:
    input:
        data=f"{DATASET}/data.nc",
        code=code("stages.optimize"),
    output:
        f"{DATASET}/optimize.nc",
    params:
        config=used_config("model", *(f"line.{k}" for k in MODEL.known), "optimize"),
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
        " --config {params.config} > {log} 2>&1"
