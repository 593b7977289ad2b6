//! Runs a scenario file over its seeds and writes `report.json` (every seed's run and the goals
//! over the seeds), `lorenz.svg`, `nakamoto.svg` and `authority.svg` (the first seed).
//!
//! `cargo run --release -p verinfer-sim --example run_scenario -- scenarios/pareto.toml reports/pareto [seeds]`
//!
//! `seeds` defaults to the scenario's `seeds` list, else 5 seeds from its `seed` on.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(
        args.next()
            .ok_or("usage: run_scenario <scenario.toml> [out-dir] [seeds]")?,
    );
    let out = PathBuf::from(args.next().unwrap_or_else(|| "reports/scenario".into()));
    let count = args.next().map(|n| n.parse::<usize>()).transpose()?;
    let scenario = verinfer_sim::scenario::Scenario::load(&file)?;
    let seeds = verinfer_sim::scenario::seeds_for(&scenario, count);
    let report = verinfer_sim::scenario::run_seeds(&scenario, &seeds, true)?;
    std::fs::create_dir_all(&out)?;
    std::fs::write(
        out.join("report.json"),
        serde_json::to_string_pretty(&report)?,
    )?;
    if let Some(first) = report.runs.first() {
        print!("{}", first.summary());
        for p in verinfer_sim::plot::write_plots(first, &out)? {
            println!("plot: {}", p.display());
        }
    }
    print!("{}", report.summary());
    Ok(())
}
