//! Layer 4, the formats that leave a function and that other programs may read
//! (`docs/wire-formats.md`): the queue [`envelope`], the [`dead_letter`] attributes, and the
//! signed result [`callback`].

pub mod callback;
pub mod dead_letter;
pub mod envelope;
