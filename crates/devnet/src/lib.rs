//! The local verinfer devnet as a library, in phases: start the chain ([`anvil`]), deploy, register
//! operators, spawn keepers, drive traffic, warp time, settle disputes and report. The `verinfer devnet`
//! command, the benches and the tests share it as a fixture.
#![warn(missing_docs)]

pub mod anvil;
