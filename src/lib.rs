//! mcpgw: a per-user stdio ⇄ Streamable HTTP bridge to the Alibaba Cloud OpenAPI
//! MCP Server. The binary (`src/main.rs`) is a thin shell around this library;
//! the library exists so that fuzz targets and benchmarks reach the same code.
//! ARCHITECTURE.md maps the modules and what each may depend on.

pub mod auth;
pub mod cli;
pub mod commands;
pub mod config;
pub mod error;
pub mod fs;
#[doc(hidden)]
pub mod fuzz_entry;
pub mod http;
pub mod logging;
pub mod memory;
pub mod output;
pub mod relay;
pub mod secret;
