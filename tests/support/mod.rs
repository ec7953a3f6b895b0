//! Shared by the integration tests (and, through `#[path]`, the benches).
#![allow(dead_code)]

pub mod corpus;
pub mod lsp;
pub mod nats;
pub mod nixgen;
pub mod rng;
pub mod standin;
pub mod typing;
