//! The README's examples, compiled (and run where they need no server) as
//! doc tests so they cannot rot. Nothing else lives here.
#![forbid(unsafe_code)]

#[doc = include_str!("../../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
