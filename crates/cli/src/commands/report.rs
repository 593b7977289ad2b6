//! `verinfer report`: print the latest devnet report.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

/// Print the latest devnet report.
///
/// Example: verinfer report --dir reports
#[derive(Args, Debug)]
pub struct ReportCommand {
    /// Directory holding devnet-<ts>.md reports.
    #[arg(long, default_value = "reports")]
    dir: PathBuf,
}

impl ReportCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let dir = &self.dir;
        let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == "md")
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("devnet-"))
            })
            .collect();
        reports.sort();
        let Some(last) = reports.last() else {
            bail!("no devnet-*.md report in {}", dir.display())
        };
        print!(
            "{}",
            std::fs::read_to_string(last).with_context(|| format!("reading {}", last.display()))?
        );
        Ok(())
    }
}
