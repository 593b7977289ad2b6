//! Phase 1, start the chain: the one way verinfer starts anvil (the devnet, the benches and every test),
//! through alloy's [`alloy::node_bindings::Anvil`], with the repository's pinned binary.

use std::path::{Path, PathBuf};

use alloy::node_bindings::{Anvil, AnvilInstance};

/// Anvil could not be found or started.
#[derive(Debug, thiserror::Error)]
pub enum AnvilError {
    /// No anvil binary at any of the searched places.
    #[error("no anvil binary found (searched: {searched}); run script/setup.sh or pass --anvil")]
    NotFound {
        /// The places searched, in order.
        searched: String,
    },
    /// The binary exists but the node did not come up.
    #[error("cannot start anvil at {path}: {source}")]
    Start {
        /// The binary.
        path: PathBuf,
        /// alloy's error.
        source: alloy::node_bindings::NodeError,
    },
}

/// How to start anvil.
#[derive(Debug, Clone, Default)]
pub struct AnvilOptions {
    /// The binary; default [`find`].
    pub bin: Option<PathBuf>,
    /// The port; default a free one.
    pub port: Option<u16>,
    /// Seconds between blocks; default automine (a block per transaction).
    pub block_time: Option<u64>,
    /// Further command-line arguments, passed as given.
    pub args: Vec<String>,
}

impl AnvilOptions {
    /// Automine on a free port with the pinned binary.
    pub fn new() -> Self {
        Self::default()
    }

    /// With blocks every `secs` seconds instead of automine.
    pub fn block_time(mut self, secs: u64) -> Self {
        self.block_time = Some(secs);
        self
    }

    /// On `port`.
    pub fn port(mut self, port: u16) -> Self {
        self.port = Some(port);
        self
    }

    /// With extra arguments.
    pub fn args<I: IntoIterator<Item = S>, S: Into<String>>(mut self, args: I) -> Self {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }
}

/// The anvil binary: `explicit` if given, else `$VERINFER_ROOT/.toolchain/anvil`, the repository's
/// `.toolchain/anvil` (as installed by `script/setup.sh`), then `anvil` on `PATH`.
pub fn find(explicit: Option<&Path>) -> Result<PathBuf, AnvilError> {
    if let Some(p) = explicit {
        return if p.is_file() {
            Ok(p.to_path_buf())
        } else {
            Err(AnvilError::NotFound {
                searched: p.display().to_string(),
            })
        };
    }
    let mut candidates = Vec::new();
    if let Ok(root) = std::env::var("VERINFER_ROOT") {
        candidates.push(PathBuf::from(root).join(".toolchain/anvil"));
    }
    candidates.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.toolchain/anvil"));
    if let Ok(cwd) = std::env::current_dir() {
        candidates.push(cwd.join(".toolchain/anvil"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|p| p.join("anvil")));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| AnvilError::NotFound {
            searched: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// Starts anvil (its ten default dev accounts, chain id 31337). The node stops when the returned
/// instance is dropped.
pub fn spawn(opts: &AnvilOptions) -> Result<AnvilInstance, AnvilError> {
    let bin = find(opts.bin.as_deref())?;
    let mut anvil = Anvil::new().path(&bin).args(["--silent"]);
    if let Some(port) = opts.port {
        anvil = anvil.port(port);
    }
    if let Some(secs) = opts.block_time {
        anvil = anvil.block_time(secs);
    }
    anvil
        .args(opts.args.iter().cloned())
        .try_spawn()
        .map_err(|source| AnvilError::Start { path: bin, source })
}
