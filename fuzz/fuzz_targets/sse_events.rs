#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| mcpgw::fuzz_entry::sse_events(data));
