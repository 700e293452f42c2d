# Simulation-based calibration: blocks of datasets with truths drawn from the prior, every
# method fitted to every block (one job per block and method), then the ranks joined.


rule sbc_simulate:
    input:
        code=code("stages.sbc_simulate"),
    output:
        f"{SBC_DIR}/blocks/{{block}}/data.nc",
    params:
        datasets=sbc_range,
        seed=config["study"]["seed"],
        priors=prior_flags(),
        line=config["line"],
        precision=config["precision"],
    log:
        f"{SBC_DIR}/blocks/{{block}}/logs/data.log",
    threads: 1
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.sbc_simulate --datasets {params.datasets} --out {output}"
        " --study-seed {params.seed} --threads {threads} {params.priors} --dtype {params.precision}"
        " --nu0 {params.line[nu0]} --half-width {params.line[half_width]}"
        " --n-points {params.line[n_points]} --line-strength {params.line[line_strength]}"
        " --gamma {params.line[gamma]} > {log} 2>&1"


rule sbc_fit:
    input:
        data=f"{SBC_DIR}/blocks/{{block}}/data.nc",
        code=code("stages.sbc_fit"),
    output:
        f"{SBC_DIR}/blocks/{{block}}/{{method}}.nc",
    params:
        method=sbc_method_flags,
        priors=prior_flags(),
        num_ranked=config["study"]["num_draws"],
        batching=config["batching"],
    benchmark:
        f"{SBC_DIR}/blocks/{{block}}/benchmarks/{{method}}.tsv"
    log:
        f"{SBC_DIR}/blocks/{{block}}/logs/{{method}}.log",
    threads: lambda wildcards: sbc_threads(wildcards.method)
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.sbc_fit {wildcards.method} --data {input.data} --out {output}"
        " --threads {threads} --num-ranked {params.num_ranked} {params.priors} {params.method}"
        " --per-call {params.batching[per_call]} --vmap-width {params.batching[vmap_width]}"
        " > {log} 2>&1"


rule sbc_ranks:
    input:
        data=[f"{SBC_DIR}/blocks/{b}/data.nc" for b in sbc_blocks()],
        fits=[f"{SBC_DIR}/blocks/{b}/{m}.nc" for m in config["study"]["methods"] for b in sbc_blocks()],
        code=code("stages.sbc_ranks"),
    output:
        nc=f"{SBC_DIR}/ranks.nc",
        calibration=f"{SBC_DIR}/calibration.csv",
        failed=f"{SBC_DIR}/failed.csv",
    params:
        fits=lambda wildcards, input: " ".join(
            f"{path.split('/')[-1][:-3]}={path}" for path in input.fits
        ),
        study=config["study"],
        include_flagged="--include-flagged" if config["study"]["include_flagged"] else "",
        diagnostics=config["diagnostics"],
    log:
        f"{SBC_DIR}/logs/ranks.log",
    resources:
        mem_mb=2000,
        runtime=10,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.sbc_ranks --data {input.data} --fits {params.fits}"
        " --out {output.nc} --calibration-csv {output.calibration} --failed-csv {output.failed}"
        " --num-ranked {params.study[num_draws]} --rank-bins {params.study[rank_bins]}"
        " --coverage-levels {params.study[coverage_levels]}"
        " --noise-strata {params.study[noise_strata]}"
        " {params.include_flagged}"
        " --min-ess {params.diagnostics[min_ess]} --max-r-hat {params.diagnostics[max_r_hat]}"
        " > {log} 2>&1"


rule sbc_figure:
    input:
        ranks=f"{SBC_DIR}/ranks.nc",
        code=code("stages.figure", "plots.sbc"),
    output:
        report(
            f"{SBC_DIR}/figures/{{sbc_figure}}.png",
            caption="../report/sbc_figure.rst",
            category="0 simulation-based calibration",
            labels={"figure": "{sbc_figure}"},
        ),
    params:
        options=lambda wildcards: flags({k: config["study"][k] for k in SBC_FIGURES[wildcards.sbc_figure].options}),
    log:
        f"{SBC_DIR}/logs/figure_{{sbc_figure}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.figure {wildcards.sbc_figure} sbc_ranks={input.ranks}"
        " --out {output} {params.options} > {log} 2>&1"
