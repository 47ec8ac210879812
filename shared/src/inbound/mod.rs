//! Layer 3, what arrives and what it becomes: a webhook request verified by its route's scheme
//! ([`verify`]), matched to a route, filtered and mapped to the target's input ([`route`]), and
//! S3 object events in each of their three shapes ([`s3_event`]).

pub(crate) mod json;
pub mod route;
pub mod s3_event;
pub mod verify;
