//! A private PostgreSQL server for tests and the devnet: the one way verinfer starts PostgreSQL
//! (the keeper's shared slashing-protection store, docs/keeper.md "High availability").
//!
//! [`spawn`] runs `initdb` into a fresh temporary directory and starts the server with `pg_ctl` on a
//! free loopback port, trust authentication, its socket in the same directory, with the
//! [`Durability`] asked for: [`Durability::Durable`] (PostgreSQL's production setting, every commit
//! on disk before it returns: what a slashing-protection store needs, and what `verinfer bench`
//! measures) or [`Durability::Volatile`] (`fsync=off`, for tests: a commit survives a crash of the
//! server, not of the machine). The server is stopped
//! (`pg_ctl stop -m immediate`) and the directory removed when the [`PostgresInstance`] is dropped.
//! PostgreSQL refuses to run as root: as root the server runs as the `verinfer-pg` user that
//! `script/setup.sh` creates (else `nobody`), through `runuser`.
//!
//! The binaries come from Debian's `postgresql` package, installed by `script/setup.sh`; they live
//! in `/usr/lib/postgresql/<version>/bin`, not on `PATH`.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU64, Ordering};

/// PostgreSQL could not be found or started.
#[derive(Debug, thiserror::Error)]
pub enum PostgresError {
    /// No `initdb`/`pg_ctl` at any of the searched places.
    #[error("no PostgreSQL server binaries found (searched: {searched}); run script/setup.sh (it installs Debian's postgresql)")]
    NotFound {
        /// The places searched, in order.
        searched: String,
    },
    /// A file-system step failed (temporary directory, permissions).
    #[error("cannot prepare {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// A database name that is not 1 to 63 letters, digits and `_`.
    #[error("database name {name:?}: use 1 to 63 letters, digits and _")]
    DatabaseName {
        /// The name asked for.
        name: String,
    },
    /// A PostgreSQL tool failed; `output` is its stderr and stdout (server log lines, never secrets:
    /// the instance uses trust authentication and has no password).
    #[error("{tool} failed ({status}): {output}")]
    Tool {
        /// The tool (`initdb`, `pg_ctl start`, ...).
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// What it printed.
        output: String,
    },
}

/// Whether a commit reaches the disk before PostgreSQL acknowledges it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Durability {
    /// `fsync=on` (PostgreSQL's default): an acknowledged commit survives a crash of the machine.
    /// A slashing-protection store must run this way (a claim lost in a power cut lets a replica
    /// sign a second output), so benchmarks measure it.
    Durable,
    /// `fsync=off`: an acknowledged commit survives a crash of the server (the test's `kill -9`,
    /// `pg_ctl stop -m immediate`), not of the machine. For tests only.
    Volatile,
}

impl Durability {
    /// The `fsync` setting.
    fn fsync(self) -> &'static str {
        match self {
            Self::Durable => "on",
            Self::Volatile => "off",
        }
    }
}

/// The directory holding `initdb`, `pg_ctl` and `postgres`: `$VERINFER_PG_BIN` if set, else the
/// newest `/usr/lib/postgresql/<version>/bin` (Debian's layout), else a directory on `PATH` that has
/// `initdb`.
pub fn find_bin_dir() -> Result<PathBuf, PostgresError> {
    let mut candidates = Vec::new();
    if let Some(dir) = std::env::var_os("VERINFER_PG_BIN") {
        candidates.push(PathBuf::from(dir));
    }
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<(u32, PathBuf)> = entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let v = e.file_name().to_str()?.parse::<u32>().ok()?;
                Some((v, e.path().join("bin")))
            })
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(v.0));
        candidates.extend(versions.into_iter().map(|(_, p)| p));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .iter()
        .find(|d| d.join("initdb").is_file() && d.join("pg_ctl").is_file())
        .cloned()
        .ok_or_else(|| PostgresError::NotFound {
            searched: candidates
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(", "),
        })
}

/// The user the server runs as when this process is root (PostgreSQL refuses root): `verinfer-pg`
/// when it exists (`script/setup.sh` creates it), else `nobody`. `None` when not root.
fn server_user() -> Option<String> {
    let uid = Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return None;
    }
    let exists = |u: &str| {
        Command::new("id")
            .arg("-u")
            .arg(u)
            .output()
            .is_ok_and(|o| o.status.success())
    };
    Some(if exists("verinfer-pg") {
        "verinfer-pg".into()
    } else {
        "nobody".into()
    })
}

/// A running private PostgreSQL server. Dropping it stops the server and removes its directory.
#[derive(Debug)]
pub struct PostgresInstance {
    bin: PathBuf,
    dir: PathBuf,
    user: Option<String>,
    port: u16,
    running: bool,
    durability: Durability,
}

/// The database superuser of a [`PostgresInstance`] (trust authentication, no password).
pub const SUPERUSER: &str = "verinfer";

static NEXT_DIR: AtomicU64 = AtomicU64::new(0);

impl PostgresInstance {
    /// The connection URL: `postgres://verinfer@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        format!("postgres://{SUPERUSER}@127.0.0.1:{}/postgres", self.port)
    }

    /// Creates the empty database `name` (`createdb`; 1 to 63 letters, digits and `_`: PostgreSQL
    /// would cut a longer name); returns its connection URL, as [`PostgresInstance::url`] with
    /// that database.
    pub fn create_database(&self, name: &str) -> Result<String, PostgresError> {
        if !(1..=63).contains(&name.len())
            || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        {
            return Err(PostgresError::DatabaseName {
                name: name.to_string(),
            });
        }
        let port = self.port.to_string();
        let args = ["-h", "127.0.0.1", "-p", &port, "-U", SUPERUSER, name];
        self.tool("createdb", "createdb", &args)?;
        Ok(format!(
            "postgres://{SUPERUSER}@127.0.0.1:{}/{name}",
            self.port
        ))
    }

    /// The TCP port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory holding its data, socket and log.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn data(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// Runs the PostgreSQL tool `name` as the server user; `what` names the step in errors.
    fn tool(&self, name: &str, what: &'static str, args: &[&str]) -> Result<(), PostgresError> {
        let program = self.bin.join(name);
        let out =
            run_as(self.user.as_deref(), &program, args).map_err(|source| PostgresError::Io {
                path: program.clone(),
                source,
            })?;
        checked(what, out)
    }

    /// The postmaster's process id (the first line of `postmaster.pid`), while the server runs.
    pub fn server_pid(&self) -> Option<u32> {
        if !self.running {
            return None;
        }
        std::fs::read_to_string(self.data().join("postmaster.pid"))
            .ok()?
            .lines()
            .next()?
            .trim()
            .parse()
            .ok()
    }

    /// Stops the server at once (`-m immediate`: like a crash, no checkpoint), keeping its data.
    pub fn stop(&mut self) -> Result<(), PostgresError> {
        if !self.running {
            return Ok(());
        }
        let data = self.data().display().to_string();
        let args = ["stop", "-D", &data, "-m", "immediate", "-w"];
        self.tool("pg_ctl", "pg_ctl stop", &args)?;
        self.running = false;
        Ok(())
    }

    /// Starts the server (again) on its port with its data; returns once it accepts connections.
    pub fn start(&mut self) -> Result<(), PostgresError> {
        if self.running {
            return Ok(());
        }
        let opts = format!(
            "-c listen_addresses=127.0.0.1 -p {} -k {} -c fsync={} -c max_connections=50",
            self.port,
            self.dir.display(),
            self.durability.fsync()
        );
        let data = self.data().display().to_string();
        let log = self.dir.join("server.log").display().to_string();
        let args = [
            "start", "-D", &data, "-l", &log, "-o", &opts, "-w", "-t", "30",
        ];
        if let Err(e) = self.tool("pg_ctl", "pg_ctl start", &args) {
            let log = std::fs::read_to_string(self.dir.join("server.log")).unwrap_or_default();
            return Err(match e {
                PostgresError::Tool {
                    tool,
                    status,
                    output,
                } => PostgresError::Tool {
                    tool,
                    status,
                    output: format!("{output}\nserver log:\n{log}"),
                },
                other => other,
            });
        }
        self.running = true;
        Ok(())
    }
}

impl Drop for PostgresInstance {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::warn!(error = %e, dir = %self.dir.display(), "private PostgreSQL did not stop");
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn run_as(user: Option<&str>, program: &Path, args: &[&str]) -> std::io::Result<Output> {
    match user {
        Some(u) => Command::new("runuser")
            .arg("-u")
            .arg(u)
            .arg("--")
            .arg(program)
            .args(args)
            .current_dir("/")
            .output(),
        None => Command::new(program).args(args).output(),
    }
}

fn checked(tool: &'static str, out: Output) -> Result<(), PostgresError> {
    if out.status.success() {
        return Ok(());
    }
    Err(PostgresError::Tool {
        tool,
        status: out.status.to_string(),
        output: format!(
            "{}{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        ),
    })
}

/// A free loopback TCP port (bound, read, released: another process may take it before the server
/// does, so [`spawn`] retries on a failed start).
fn free_port() -> Result<u16, PostgresError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|source| PostgresError::Io {
            path: PathBuf::from("127.0.0.1:0"),
            source,
        })
}

/// Initializes a fresh cluster in a new temporary directory and starts it on a free port (see the
/// module doc). Fails with [`PostgresError::NotFound`] when the binaries are missing: run
/// `script/setup.sh`.
pub fn spawn(durability: Durability) -> Result<PostgresInstance, PostgresError> {
    let bin = find_bin_dir()?;
    let user = server_user();
    let dir = std::env::temp_dir().join(format!(
        "verinfer-pg-{}-{}",
        std::process::id(),
        NEXT_DIR.fetch_add(1, Ordering::Relaxed)
    ));
    let io = |source| PostgresError::Io {
        path: dir.clone(),
        source,
    };
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(io)?;
    if user.is_some() {
        // The server user writes its data directory, socket and log here.
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).map_err(io)?;
    }
    let mut pg = PostgresInstance {
        bin,
        dir,
        user,
        port: 0,
        running: false,
        durability,
    };
    let data = pg.data().display().to_string();
    let args = [
        "-D",
        &data,
        "-U",
        SUPERUSER,
        "--auth=trust",
        "--no-sync",
        "-E",
        "UTF8",
        "--locale=C",
    ];
    pg.tool("initdb", "initdb", &args)?;
    let mut last = None;
    for _ in 0..5 {
        pg.port = free_port()?;
        match pg.start() {
            Ok(()) => return Ok(pg),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or(PostgresError::Tool {
        tool: "pg_ctl start",
        status: "not run".into(),
        output: String::new(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_binaries_name_the_setup_script() {
        let err = PostgresError::NotFound {
            searched: "/nowhere".into(),
        };
        assert!(err.to_string().contains("run script/setup.sh"), "{err}");
    }

    /// The server starts, accepts TCP connections on its port, survives a stop/start with its data
    /// directory, and is gone (port closed, directory removed) after drop.
    #[test]
    fn private_server_starts_restarts_and_is_removed_on_drop() {
        let mut pg = spawn(Durability::Volatile).expect("PostgreSQL starts (run script/setup.sh)");
        let addr = format!("127.0.0.1:{}", pg.port());
        assert!(std::net::TcpStream::connect(&addr).is_ok(), "listening");
        pg.stop().unwrap();
        assert!(std::net::TcpStream::connect(&addr).is_err(), "stopped");
        pg.start().unwrap();
        assert!(std::net::TcpStream::connect(&addr).is_ok(), "restarted");
        let dir = pg.dir().to_path_buf();
        drop(pg);
        assert!(!dir.exists(), "directory removed");
        assert!(
            std::net::TcpStream::connect(&addr).is_err(),
            "stopped on drop"
        );
    }

    /// A created database is a separate, empty one on the same server: a table made in it is not
    /// in the default database, and a second database of the same name is refused.
    #[test]
    fn a_created_database_is_separate_from_the_default_one() {
        let pg = spawn(Durability::Volatile).expect("PostgreSQL starts (run script/setup.sh)");
        let url = pg.create_database("row_1").unwrap();
        assert!(url.ends_with("/row_1"), "{url}");
        let psql = |url: &str, sql: &str| {
            let out = run_as(
                pg.user.as_deref(),
                &pg.bin.join("psql"),
                &[url, "-v", "ON_ERROR_STOP=1", "-Atc", sql],
            )
            .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).trim().to_string(),
            )
        };
        assert!(psql(&url, "CREATE TABLE only_here (x int)").0);
        let (ok, n) = psql(
            &pg.url(),
            "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'",
        );
        assert!(ok);
        assert_eq!(n, "0", "not in the default database");
        assert!(pg.create_database("row_1").is_err(), "already exists");
        for bad in ["row-1; drop", "", &"x".repeat(64)] {
            assert!(
                matches!(
                    pg.create_database(bad),
                    Err(PostgresError::DatabaseName { .. })
                ),
                "{bad:?} refused"
            );
        }
    }

    /// Each durability reaches the running server: `postmaster.opts` records the options the
    /// server was started with, after a restart too.
    #[test]
    fn the_server_runs_with_the_durability_asked_for() {
        for (durability, want) in [
            (Durability::Durable, "fsync=on"),
            (Durability::Volatile, "fsync=off"),
        ] {
            let mut pg = spawn(durability).expect("PostgreSQL starts (run script/setup.sh)");
            let opts = |pg: &PostgresInstance| {
                std::fs::read_to_string(pg.data().join("postmaster.opts")).unwrap()
            };
            assert!(opts(&pg).contains(want), "{durability:?}: {}", opts(&pg));
            pg.stop().unwrap();
            pg.start().unwrap();
            assert!(opts(&pg).contains(want), "{durability:?} after a restart");
            let pid = pg
                .server_pid()
                .expect("a running server has a postmaster pid");
            let comm = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap();
            assert!(comm.starts_with("postgres"), "{pid} is {comm}");
        }
    }
}
