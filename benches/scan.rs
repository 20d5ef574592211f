//! The message check (`relay/scan/`) against serde_json, which did the check
//! before, on 10 MiB messages of different shapes: the tool result of the relay
//! benchmark (JSON text inside a JSON string, an escape every few bytes), plain
//! ASCII text, Chinese text, text with every character `\u`-escaped, and an
//! array of small objects. Whole, and in 64 KiB chunks as a body arrives.
//!
//!     cargo bench --profile bench-harness --bench scan
//!
//! Prints the best of 15 runs per row (ms); the harness's own build is enough
//! to compare the two, which share it.
#![allow(clippy::print_stdout)]

use std::time::Instant;

use mcpgw::relay::scan::{self, Scanner};
use serde::Deserialize;
use serde::de::IgnoredAny;
use serde_json::value::RawValue;

/// What the relay read with serde_json before.
#[derive(Deserialize)]
#[allow(dead_code)]
struct Peek<'a> {
    #[serde(borrow)]
    id: Option<&'a RawValue>,
    method: Option<IgnoredAny>,
    result: Option<IgnoredAny>,
    error: Option<IgnoredAny>,
}

const SIZE: usize = 10 << 20;

fn text_result(text: &[u8]) -> Vec<u8> {
    let mut message =
        br#"{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":""#.to_vec();
    message.extend_from_slice(text);
    message.extend_from_slice(br#""}],"isError":false}}"#);
    message
}

fn repeated(unit: &[u8]) -> Vec<u8> {
    unit.iter()
        .copied()
        .cycle()
        .take(SIZE / unit.len() * unit.len())
        .collect()
}

fn best_ms<T>(mut run: impl FnMut() -> T) -> f64 {
    (0..15)
        .map(|_| {
            let start = Instant::now();
            std::hint::black_box(run());
            start.elapsed().as_secs_f64() * 1e3
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut objects = String::from(r#"{"jsonrpc":"2.0","id":7,"result":{"items":["#);
    for n in 0.. {
        if objects.len() >= SIZE {
            break;
        }
        if n > 0 {
            objects.push(',');
        }
        objects.push_str(&format!(
            r#"{{"InstanceId":"i-bp1bench{n:010}","Status":"Running","Cpu":2,"Memory":4096,"Tags":[1,2.5,-3e2,true,null]}}"#
        ));
    }
    objects.push_str("]}}");
    let shapes: [(&str, Vec<u8>); 5] = [
        (
            "JSON text in a string (the relay benchmark's)",
            text_result(&repeated(
                br#"{\"InstanceId\":\"i-bp1bench0000000001\",\"Status\":\"Running\",\"Cpu\":2,\"Memory\":4096,\"ZoneId\":\"cn-hangzhou-h\"}\n"#,
            )),
        ),
        ("plain ASCII text", text_result(&repeated(b"a"))),
        ("Chinese text", text_result(&repeated("阿里云服务器实例".as_bytes()))),
        ("\\u-escaped text", text_result(&repeated(br"\u963f\u91cc\u4e91"))),
        ("an array of small objects", objects.into_bytes()),
    ];
    println!(
        "| 10 MiB message | serde_json (ms) | check, whole (ms) | check, 64 KiB chunks (ms) |"
    );
    println!("|---|---:|---:|---:|");
    for (name, message) in &shapes {
        let serde = best_ms(|| {
            let text = std::str::from_utf8(message).expect("UTF-8");
            serde_json::from_str::<Peek>(text).is_ok()
        });
        let whole = best_ms(|| scan::scan(message).is_ok());
        let chunked = best_ms(|| {
            let mut scanner = Scanner::default();
            message
                .chunks(64 << 10)
                .all(|chunk| scanner.feed(chunk).is_ok())
                && scanner.finish().is_ok()
        });
        assert!(scan::scan(message).is_ok(), "{name} failed the check");
        println!("| {name} | {serde:.2} | {whole:.2} | {chunked:.2} |");
    }
}
