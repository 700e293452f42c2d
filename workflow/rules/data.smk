rule simulate_data:
    input:
        code=code("stages.data"),
    output:
        f"{DATASET}/data.nc",
    params:
        line=config["line"],
        precision=config["precision"],
        sigma_noise=sigma_noise,
        noise_seeds=noise_seed_flags(),
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
        " --sigma-noise {params.sigma_noise} --seed {wildcards.seed} {params.noise_seeds}"
        " --dtype {params.precision}"
        " --nu0 {params.line[nu0]} --half-width {params.line[half_width]}"
        " --n-points {params.line[n_points]} --line-strength {params.line[line_strength]}"
        " --gamma {params.line[gamma]} --logN {params.line[logN]} --logbeta {params.line[logbeta]}"
        " > {log} 2>&1"
