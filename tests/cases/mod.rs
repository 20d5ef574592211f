mod claude_code;
mod cli_basics;
mod install;
mod interop;
mod login;
mod tooling;
mod transport;
