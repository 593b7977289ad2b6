//! One module per command; each is a clap struct (or subcommand enum) with an `execute`.

pub mod deploy;
