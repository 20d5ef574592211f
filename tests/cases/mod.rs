mod claude_code;
mod cli_basics;
mod install;
mod interop;
mod login;
mod shutdown;
mod tooling;
mod transport;
