//! `verinfer devnet`: the local end-to-end run of [`verinfer_devnet`] — anvil, the suite, operators
//! with skewed stakes, keepers (one equivocating, one offline, one killed and restarted), traffic, a
//! time warp, one dispute decided by a quadratic vote, a stake re-sync — then the report, printed and
//! saved.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Result;
use clap::Args;
use verinfer_devnet::anvil::AnvilOptions;
use verinfer_devnet::config::LlmDevnet;
use verinfer_devnet::{Devnet, DevnetConfig, Progress};

/// Start a local anvil devnet: deploy, register operators, run keepers (one misbehaving), drive
/// traffic, print and save a report.
///
/// Example: verinfer devnet --requests 40 --operators 5
#[derive(Args, Debug)]
pub struct DevnetCommand {
    /// Number of operators (3..=8; with 3 none equivocates: jailing it would leave too few for a
    /// request).
    #[arg(long, default_value_t = 5)]
    operators: usize,
    /// Inference requests to drive.
    #[arg(long, default_value_t = 24)]
    requests: usize,
    /// Where reports go.
    #[arg(long, default_value = "reports")]
    out: PathBuf,
    /// Repository root (deployments/ is written here); default $VERINFER_ROOT or `.`.
    #[arg(long, env = "VERINFER_ROOT")]
    root: Option<PathBuf>,
    /// anvil binary (default: <root>/.toolchain/anvil, then `anvil` on PATH).
    #[arg(long)]
    anvil: Option<PathBuf>,
    /// Extra arguments passed to anvil (repeatable), e.g. `--anvil-arg=--block-time --anvil-arg=1`.
    #[arg(long = "anvil-arg", allow_hyphen_values = true)]
    anvil_args: Vec<String>,
    /// Seconds allowed for the whole traffic phase.
    #[arg(long, default_value_t = 240)]
    timeout_secs: u64,
    /// Also run the real LLM (SmolLM2-135M-Instruct on llama-cpp-python; `script/setup.sh --llm`
    /// installs it): register it, serve it from every keeper, prompt it and verify the texts.
    #[arg(long)]
    llm: bool,
    /// Prompts sent to the LLM with --llm (1..=50, from models/smollm2/prompts.txt).
    #[arg(long, default_value_t = 4, requires = "llm")]
    llm_prompts: usize,
}

/// Prints the devnet's progress as the command always has: phases as `==>` lines, details indented,
/// the live status rewritten in place.
pub fn print_progress(p: Progress) {
    match p {
        Progress::Phase(s) => println!("==> {s}"),
        Progress::Detail(s) => println!("    {s}"),
        Progress::Status(s) => {
            print!("\r    {s}");
            let _ = std::io::stdout().flush();
        }
        Progress::StatusDone => println!(),
    }
}

impl DevnetCommand {
    /// The library's configuration for these arguments.
    pub fn config(self) -> DevnetConfig {
        let root = self.root.unwrap_or_else(|| PathBuf::from("."));
        DevnetConfig {
            operators: self.operators,
            requests: self.requests,
            anvil: AnvilOptions {
                bin: self
                    .anvil
                    .or_else(|| Some(root.join(".toolchain/anvil")).filter(|p| p.is_file())),
                ..AnvilOptions::default()
            }
            .args(self.anvil_args),
            root,
            timeout: Duration::from_secs(self.timeout_secs),
            llm: self.llm.then(|| LlmDevnet {
                prompts: self.llm_prompts,
                ..LlmDevnet::default()
            }),
            ..DevnetConfig::default()
        }
        .with_progress(print_progress)
    }

    /// Runs the devnet and writes the report.
    pub async fn execute(self) -> Result<()> {
        let out = self.out.clone();
        let report = Devnet::run(self.config()).await?;
        let base = report.write(&out)?;
        println!("\n{}", report.markdown());
        println!("report written to {} (.json, .md)", base.display());
        Ok(())
    }
}
