//! One module per command other than the relay. Commands use the relay and auth
//! layers and print through `crate::output`; nothing below imports them.

pub mod completions;
pub mod doctor;
pub mod services;
pub mod setup;
pub mod status;
