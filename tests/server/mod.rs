//! The Rust test upstream (placeholder)
