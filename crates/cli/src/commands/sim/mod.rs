//! `verinfer sim`: in-process protocol simulation (revm): scenario runs and fork what-ifs.

use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

pub mod fork;

/// In-process protocol simulation (revm): run a scenario and report legitimacy metrics.
///
/// Example: verinfer sim run scenarios/small.toml --out reports/sim
#[derive(Subcommand, Debug)]
pub enum SimCommand {
    /// Run a scenario file; prints the summary, writes JSON and SVG plots when --out is given.
    /// Exits non-zero when a goal line says FAIL (after printing and writing everything).
    ///
    /// Example: verinfer sim run scenarios/small.toml --out reports/sim
    Run(RunArgs),
    /// Fork a live chain into revm and ask a what-if (nothing is sent): slashing an operator
    /// (--slash), a proposal's effect (--proposal-action / --proposal) or a request batch's gas (--batch).
    ///
    /// Example: verinfer sim fork --rpc-url http://127.0.0.1:8545 --slash 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 --kind equivocation
    Fork(fork::ForkArgs),
}

/// `sim run`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// Scenario TOML.
    scenario: PathBuf,
    /// Directory for report.json and plots.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Hide the progress bar.
    #[arg(long)]
    quiet: bool,
    /// Run the scenario over N seeds (seed, seed+1, ...); default: the scenario's `seeds` list, or
    /// 5 seeds. A goal passes only if it holds in every seed.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=1000))]
    seeds: Option<u16>,
}

impl SimCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        match self {
            Self::Run(a) => run(a).await,
            Self::Fork(a) => fork::run(a).await,
        }
    }
}

async fn run(a: RunArgs) -> Result<()> {
    let sc = verinfer_sim::scenario::Scenario::load(&a.scenario)?;
    let progress = !a.quiet;
    let seeds = verinfer_sim::scenario::seeds_for(&sc, a.seeds.map(usize::from));
    let rep = tokio::task::spawn_blocking(move || {
        verinfer_sim::scenario::run_seeds(&sc, &seeds, progress)
    })
    .await??;
    if let [only] = rep.runs.as_slice() {
        println!("{}", only.summary());
    } else {
        if let Some(first) = rep.runs.first() {
            println!("{}", first.summary());
        }
        println!("{}", rep.summary());
    }
    if let Some(dir) = a.out {
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join("report.json"), serde_json::to_string_pretty(&rep)?)?;
        // Plots of the first seed's run.
        let mut plots = Vec::new();
        if let Some(first) = rep.runs.first() {
            plots = verinfer_sim::plot::write_plots(first, &dir)?;
        }
        println!(
            "wrote {} and {} plot(s)",
            dir.join("report.json").display(),
            plots.len()
        );
    }
    let failed = rep.failed_goals();
    if !failed.is_empty() {
        anyhow::bail!(
            "{} of {} goal(s) FAILED over {} seed(s): {}",
            failed.len(),
            rep.goals.len(),
            rep.seeds.len(),
            failed
                .iter()
                .map(|g| g.goal.as_str())
                .collect::<Vec<_>>()
                .join("; ")
        );
    }
    Ok(())
}
