//! `mcpgw call SERVICE TOOL [ARGS]`: one `tools/call` through the relay's upstream
//! client and tool filter, its result on stdout.
//!
//! ARGS: one JSON object, `-` (a JSON object on stdin), or `key=value` (a string)
//! and `key:=json` (any JSON value) pairs, as HTTPie and xh take them. Text content
//! is printed as text (terminal-safe when stdout is a terminal), `--json` prints
//! the whole result. Progress notifications go to stderr: one line that updates
//! itself on a terminal, a line each otherwise. Exit 1 when the tool reports
//! `isError`.

use std::io::{IsTerminal, Read, Write};

use serde_json::{Map, Value, json};

use crate::cli::{CallArgs, GlobalArgs};
use crate::config::Config;
use crate::error::{CliError, CliResult};
use crate::output::{Out, terminal_safe};

use super::tools::Connection;

/// The progress token sent with the call.
const PROGRESS_TOKEN: &str = "mcpgw-call";

pub async fn run(global: &GlobalArgs, args: &CallArgs, config: &Config) -> CliResult {
    let arguments = parse_arguments(&args.args, &mut std::io::stdin().lock())?;
    let mut connection = Connection::open(global, config, &args.target).await?;
    let result = call(&mut connection, &args.tool, arguments).await;
    connection.close().await;
    let result = result?;

    let mut out = Out::default();
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?;
    } else {
        write_content(&mut out, &result, std::io::stdout().is_terminal())?;
    }
    out.print()?;
    if result.get("isError") == Some(&Value::Bool(true)) {
        return Err(CliError::user(format!(
            "tool `{}` reported an error (its message is above)",
            terminal_safe(&args.tool)
        )));
    }
    Ok(())
}

async fn call(connection: &mut Connection, tool: &str, arguments: Value) -> CliResult<Value> {
    if let Some(policy) = &connection.policy
        && policy.check_call(tool).is_err()
    {
        // readOnlyHint is learned from tools/list, as an MCP client would have listed first.
        connection.list_tools().await?;
        let policy = connection.policy.as_ref().expect("checked above");
        if let Err(rule) = policy.check_call(tool) {
            return Err(CliError::user(terminal_safe(&rule)).with_hint(format!(
                "`mcpgw tools {} --all` lists the hidden tools with the rule that hides each",
                connection.service
            )));
        }
    }
    let params = json!({
        "name": tool,
        "arguments": arguments,
        "_meta": {"progressToken": PROGRESS_TOKEN},
    });
    let mut progress = Progress::new(std::io::stderr().is_terminal());
    let answer = connection
        .exchange("tools/call", params, &mut |message| progress.show(message))
        .await;
    progress.finish();
    answer?.map_err(|error| connection.rpc_error("tools/call", &error))
}

/// Shows `notifications/progress` and `notifications/message` on stderr.
struct Progress {
    terminal: bool,
    /// A progress line is on the terminal and needs a newline before other output.
    open_line: bool,
}

impl Progress {
    fn new(terminal: bool) -> Self {
        Progress {
            terminal,
            open_line: false,
        }
    }

    fn show(&mut self, message: &Value) {
        let params = message.get("params").cloned().unwrap_or(Value::Null);
        let text = match message.get("method").and_then(Value::as_str) {
            Some("notifications/progress") => progress_text(&params),
            Some("notifications/message") => {
                let level = params
                    .get("level")
                    .and_then(Value::as_str)
                    .unwrap_or("info");
                let data = match params.get("data") {
                    Some(Value::String(text)) => text.clone(),
                    Some(other) => other.to_string(),
                    None => String::new(),
                };
                self.finish();
                eprintln!("mcpgw: server {level}: {}", terminal_safe(&data));
                return;
            }
            _ => return,
        };
        let text = terminal_safe(&text);
        if self.terminal {
            eprint!("\r\x1b[2Kprogress: {text}");
            self.open_line = true;
        } else {
            eprintln!("mcpgw: progress: {text}");
        }
    }

    fn finish(&mut self) {
        if self.open_line {
            eprintln!();
            self.open_line = false;
        }
    }
}

/// `3/10 copying` or `42 copying`.
fn progress_text(params: &Value) -> String {
    let number = |key: &str| params.get(key).and_then(Value::as_f64);
    let mut text = match (number("progress"), number("total")) {
        (Some(done), Some(total)) if total > 0.0 => {
            format!("{done}/{total} ({:.0}%)", done / total * 100.0)
        }
        (Some(done), _) => format!("{done}"),
        _ => String::new(),
    };
    if let Some(message) = params.get("message").and_then(Value::as_str) {
        if !text.is_empty() {
            text.push(' ');
        }
        text.push_str(message);
    }
    text
}

/// The tool's arguments from the command line (or stdin for `-`).
fn parse_arguments(args: &[String], stdin: &mut dyn Read) -> CliResult<Value> {
    let hint = "give a JSON object ('{\"RegionId\": \"cn-hangzhou\"}'), `-` to read one from stdin, \
                or key=value and key:=json pairs";
    match args {
        [] => return Ok(json!({})),
        [only] if only == "-" => {
            let mut text = String::new();
            stdin.read_to_string(&mut text).map_err(|err| {
                CliError::user("cannot read the arguments from stdin").with_source(err)
            })?;
            return json_object(&text, "stdin").map_err(|e| e.with_hint(hint));
        }
        [only] if only.trim_start().starts_with('{') => {
            return json_object(only, "the argument").map_err(|e| e.with_hint(hint));
        }
        _ => {}
    }
    let mut object = Map::new();
    for arg in args {
        let Some(eq) = arg.find('=') else {
            return Err(CliError::usage(format!(
                "`{arg}` is not key=value, key:=json or a JSON object"
            ))
            .with_hint(hint));
        };
        let (key, value, raw) = match arg[..eq].strip_suffix(':') {
            Some(key) => (key, &arg[eq + 1..], true),
            None => (&arg[..eq], &arg[eq + 1..], false),
        };
        if key.is_empty() {
            return Err(CliError::usage(format!("`{arg}` has no key before `=`")).with_hint(hint));
        }
        let value = if raw {
            serde_json::from_str(value).map_err(|err| {
                CliError::usage(format!("`{key}:={value}`: the value is not JSON ({err})"))
                    .with_hint(
                        "key:=json takes a JSON value: 10, true, null, [1,2], {\"a\":1}, \"text\"",
                    )
            })?
        } else {
            Value::String(value.to_owned())
        };
        object.insert(key.to_owned(), value);
    }
    Ok(Value::Object(object))
}

fn json_object(text: &str, from: &str) -> CliResult<Value> {
    match serde_json::from_str::<Value>(text) {
        Ok(value @ Value::Object(_)) => Ok(value),
        Ok(_) => Err(CliError::usage(format!(
            "the arguments from {from} are JSON but not an object"
        ))),
        Err(err) => Err(CliError::usage(format!(
            "the arguments from {from} are not valid JSON: {err}"
        ))),
    }
}

/// The result's content for a person: text as it is, other kinds as a short note,
/// `structuredContent` as JSON when there is nothing else.
fn write_content(out: &mut dyn Write, result: &Value, terminal: bool) -> std::io::Result<()> {
    let safe = |text: &str| -> String {
        if terminal {
            text.split('\n')
                .map(|line| {
                    line.split('\t')
                        .map(terminal_safe)
                        .collect::<Vec<_>>()
                        .join("\t")
                })
                .collect::<Vec<_>>()
                .join("\n")
        } else {
            text.to_owned()
        }
    };
    let mut wrote = false;
    for item in result
        .get("content")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let kind = item.get("type").and_then(Value::as_str).unwrap_or("");
        let text = match kind {
            "text" => item
                .get("text")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned(),
            "resource" => match item.pointer("/resource/text").and_then(Value::as_str) {
                Some(text) => text.to_owned(),
                None => format!(
                    "[resource {}]",
                    item.pointer("/resource/uri")
                        .and_then(Value::as_str)
                        .unwrap_or("")
                ),
            },
            "resource_link" => format!(
                "[resource link {}]",
                item.get("uri").and_then(Value::as_str).unwrap_or("")
            ),
            other => {
                let mime = item.get("mimeType").and_then(Value::as_str).unwrap_or("?");
                let size = item
                    .get("data")
                    .and_then(Value::as_str)
                    .map_or(0, |d| d.len() * 3 / 4);
                format!("[{other} {mime}, about {size} bytes; --json shows it]")
            }
        };
        let text = safe(&text);
        out.write_all(text.as_bytes())?;
        if !text.ends_with('\n') {
            writeln!(out)?;
        }
        wrote = true;
    }
    if !wrote && let Some(structured) = result.get("structuredContent") {
        writeln!(
            out,
            "{}",
            safe(&serde_json::to_string_pretty(structured).expect("a Value serialises"))
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str], stdin: &str) -> CliResult<Value> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        parse_arguments(&args, &mut stdin.as_bytes())
    }

    #[test]
    fn arguments_as_pairs_json_or_stdin() {
        assert_eq!(parse(&[], "").unwrap(), json!({}));
        assert_eq!(
            parse(
                &[
                    "RegionId=cn-hangzhou",
                    "PageSize:=10",
                    "Tags:=[\"a\"]",
                    "Note=a=b",
                    "Empty="
                ],
                ""
            )
            .unwrap(),
            json!({"RegionId": "cn-hangzhou", "PageSize": 10, "Tags": ["a"], "Note": "a=b", "Empty": ""})
        );
        assert_eq!(parse(&["{\"a\": 1}"], "").unwrap(), json!({"a": 1}));
        assert_eq!(
            parse(&["-"], " {\"b\": [true]}\n").unwrap(),
            json!({"b": [true]})
        );
    }

    #[test]
    fn bad_arguments_are_usage_errors_that_say_why() {
        for (args, stdin, says) in [
            (&["RegionId"][..], "", "is not key=value"),
            (&["=x"][..], "", "has no key"),
            (&["n:=ten"][..], "", "the value is not JSON"),
            (&["-"][..], "[1]", "not an object"),
            (&["{nope"][..], "", "not valid JSON"),
        ] {
            let err = parse(args, stdin).unwrap_err();
            assert_eq!(err.exit_code, crate::error::EXIT_USAGE, "{args:?}");
            assert!(err.message.contains(says), "{args:?}: {}", err.message);
        }
    }

    #[test]
    fn content_is_printed_as_text_and_made_safe_on_a_terminal() {
        let result = json!({"content": [
            {"type": "text", "text": "line 1\nline\t2 \u{1b}[2J"},
            {"type": "image", "mimeType": "image/png", "data": "AAAA"},
        ]});
        let mut bytes = Vec::new();
        write_content(&mut bytes, &result, true).unwrap();
        assert_eq!(
            String::from_utf8(bytes).unwrap(),
            "line 1\nline\t2 \u{FFFD}[2J\n[image image/png, about 3 bytes; --json shows it]\n"
        );
        let mut bytes = Vec::new();
        write_content(
            &mut bytes,
            &json!({"content": [], "structuredContent": {"n": 1}}),
            false,
        )
        .unwrap();
        assert_eq!(String::from_utf8(bytes).unwrap(), "{\n  \"n\": 1\n}\n");
    }

    #[test]
    fn progress_lines() {
        assert_eq!(
            progress_text(&json!({"progress": 3, "total": 4, "message": "copying"})),
            "3/4 (75%) copying"
        );
        assert_eq!(progress_text(&json!({"progress": 2})), "2");
    }
}
