# Simulation-based calibration: blocks of datasets with truths drawn from the prior, every
# entry of study.methods fitted to every block (one job per block and entry), then the ranks
# joined.


rule sbc_simulate:
    input:
        code=code("stages.sbc_simulate"),
    output:
        f"{SBC_DIR}/blocks/{{block}}/data.nc",
    params:
        datasets=sbc_range,
        config=used_config("model", "line", *(f"priors.{n}" for n in MODEL.names), "precision",
                           "study.seed"),
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
        " --threads {threads} --config {params.config} > {log} 2>&1"


rule sbc_fit:
    input:
        unpack(sbc_start),
        data=f"{SBC_DIR}/blocks/{{block}}/data.nc",
        code=lambda wildcards: code("stages.sbc_fit", *STUDY_ENTRIES[wildcards.study_entry].method.runs),
    output:
        f"{SBC_DIR}/blocks/{{block}}/{{study_entry}}.nc",
    params:
        config=sbc_fit_config,
        start=lambda wildcards, input: f"--start {input.start}" if "start" in input.keys() else "",
    benchmark:
        f"{SBC_DIR}/blocks/{{block}}/benchmarks/{{study_entry}}.tsv"
    log:
        f"{SBC_DIR}/blocks/{{block}}/logs/{{study_entry}}.log",
    threads: lambda wildcards: STUDY_ENTRIES[wildcards.study_entry].method.threads(STUDY_ENTRIES[wildcards.study_entry].settings)
    resources:
        mem_mb=2000,
        runtime=60,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.sbc_fit {wildcards.study_entry} --data {input.data}"
        " {params.start} --out {output} --threads {threads} --config {params.config} > {log} 2>&1"


rule sbc_ranks:
    input:
        data=[f"{SBC_DIR}/blocks/{b}/data.nc" for b in sbc_blocks()],
        fits=[f"{SBC_DIR}/blocks/{b}/{m}.nc" for m in STUDY_ENTRIES for b in sbc_blocks()],
        code=code("stages.sbc_ranks"),
    output:
        nc=f"{SBC_DIR}/ranks.nc",
        calibration=f"{SBC_DIR}/calibration.csv",
        failed=f"{SBC_DIR}/failed.csv",
    params:
        fits=lambda wildcards, input: " ".join(
            f"{path.split('/')[-1][:-3]}={path}" for path in input.fits
        ),
        config=used_config("study", "diagnostics"),
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
        " --config {params.config} > {log} 2>&1"


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
        config=lambda wildcards: used_config(
            *figure_keys(SBC_FIGURES[wildcards.sbc_figure]), study__methods=STUDY_NAMES
        ),
    log:
        f"{SBC_DIR}/logs/figure_{{sbc_figure}}.log",
    resources:
        mem_mb=1000,
        runtime=5,
    conda:
        ENV
    shell:
        "python -m pipeline.stages.figure {wildcards.sbc_figure} sbc_ranks={input.ranks}"
        " --out {output} --config {params.config} > {log} 2>&1"
