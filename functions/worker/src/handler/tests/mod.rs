//! The handler's tests, through [`Worker::handle`](crate::handler::Worker::handle) as Lambda calls
//! it, by topic; what they share is in `support`.

mod support;

mod batch;
mod callbacks;
mod deadlines;
mod outcomes;
