//! Throughput benchmark helpers.
