//! Runs a scenario file and writes `report.json`, `lorenz.svg`, `nakamoto.svg` and `authority.svg`.
//!
//! `cargo run --release -p verinfer-sim --example run_scenario -- scenarios/pareto.toml reports/pareto`

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .ok_or("usage: run_scenario <scenario.toml> [out-dir]")?,
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "reports/scenario".into()));
    let scenario = verinfer_sim::scenario::Scenario::load(&file)?;
    let report = verinfer_sim::scenario::run(&scenario, true)?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    let plots = verinfer_sim::plot::write_plots(&report, &out)?;
    print!("{}", report.summary());
    for p in plots {
        println!("plot: {}", p.display());
    }
    Ok(())
}
