//! `verinfer report`: print the latest devnet report.

use std::path::PathBuf;

use anyhow::{bail, Context, Result};
use clap::Args;

use crate::output::OutputArgs;

/// Print the latest devnet report (`--json`: its JSON).
///
/// Example: verinfer report --dir reports
#[derive(Args, Debug)]
pub struct ReportCommand {
    /// Directory holding the devnet-<ts>.md reports (and, for --json, the devnet-<ts>.json beside them).
    #[arg(long, default_value = "reports")]
    dir: PathBuf,
    #[command(flatten)]
    out: OutputArgs,
}

impl ReportCommand {
    /// Runs the command.
    pub async fn execute(self) -> Result<()> {
        let dir = &self.dir;
        let ext = if self.out.json { "json" } else { "md" };
        let mut reports: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("reading {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                p.extension().is_some_and(|x| x == ext)
                    && p.file_name()
                        .is_some_and(|n| n.to_string_lossy().starts_with("devnet-"))
            })
            .collect();
        reports.sort();
        let Some(last) = reports.last() else {
            bail!("no devnet-*.{ext} report in {}", dir.display())
        };
        let text =
            std::fs::read_to_string(last).with_context(|| format!("reading {}", last.display()))?;
        if self.out.json {
            // Re-serialized: one compact object on one line, whatever the file's layout.
            let v: serde_json::Value = serde_json::from_str(&text)
                .with_context(|| format!("{} is not JSON", last.display()))?;
            self.out.result(&v);
        } else {
            print!("{text}");
        }
        Ok(())
    }
}
