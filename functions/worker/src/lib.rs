//! The worker function's logic, as a library so that its tests and fuzz targets reach the same
//! handler the binary runs. `main.rs` is the wiring.

pub mod actions;
pub mod handler;
pub mod timeout_fit;
