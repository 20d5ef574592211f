mod cli_basics;
mod interop;
mod transport;
