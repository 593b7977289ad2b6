//! Fork mode: what-ifs against a live chain (see [`crate::Sim`]).
