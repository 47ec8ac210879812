//! The ingress function's logic, as a library so that its tests, benches and fuzz targets reach
//! the same handler the binary runs. `main.rs` is the wiring.

pub mod deadline;
pub mod event;
pub mod handler;
