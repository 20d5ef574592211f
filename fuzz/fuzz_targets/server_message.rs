#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mcpgw::fuzz_entry::server_message(data));
