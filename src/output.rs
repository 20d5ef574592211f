//! What commands print: stdout with one broken-pipe policy, and the small texts
//! several commands share (times, durations, who is logged in, the `--profile`
//! hint). The relay never uses this: its stdout is the JSON-RPC channel.

/// Command output on stdout, in one write. A reader that went away
/// (`mcpgw services list | head -1`) is not an error: the command ends quietly.
pub fn print(text: &str) -> std::io::Result<()> {
    print_bytes(text.as_bytes())
}

fn print_bytes(bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let result = out.write_all(bytes).and_then(|()| out.flush()); // stdout-ok
    match result {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

/// A command's output, gathered with `write!`/`writeln!` and written by
/// [`Out::print`] in one go through the same policy as [`print`].
#[derive(Default)]
pub struct Out(Vec<u8>);

impl Out {
    pub fn print(self) -> std::io::Result<()> {
        print_bytes(&self.0)
    }
}

impl std::io::Write for Out {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Absolute time in the local zone, e.g. `2026-05-01 14:03:00 +08:00`.
pub fn local_time(unix: i64) -> String {
    use chrono::TimeZone;
    match chrono::Local.timestamp_opt(unix, 0).single() {
        Some(time) => time.format("%Y-%m-%d %H:%M:%S %:z").to_string(),
        None => unix.to_string(),
    }
}

/// `2026-05-01T06:03:00Z`, for machine-readable output.
pub fn rfc3339_utc(unix: i64) -> Option<String> {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
}

/// A length of time: `42 s`, `5 min`, `3 h 10 min`, `2 d 4 h` (the sign is ignored).
pub fn duration(seconds: i64) -> String {
    let abs = seconds.unsigned_abs();
    match abs {
        0..60 => format!("{abs} s"),
        60..3600 => format!("{} min", abs / 60),
        3600..86_400 => format!("{} h {} min", abs / 3600, abs % 3600 / 60),
        _ => format!("{} d {} h", abs / 86_400, abs % 86_400 / 3600),
    }
}

/// A time relative to now: `in 42 min`, `3 h 5 min ago`.
pub fn relative(seconds: i64) -> String {
    if seconds >= 0 {
        format!("in {}", duration(seconds))
    } else {
        format!("{} ago", duration(seconds))
    }
}

/// `alice (account 123)`, `account 123` or `alice`; `None` when nothing is known.
pub fn who(name: Option<&str>, account: Option<&str>) -> Option<String> {
    match (name, account) {
        (Some(name), Some(account)) => Some(format!("{name} (account {account})")),
        (None, Some(account)) => Some(format!("account {account}")),
        (Some(name), None) => Some(name.to_owned()),
        (None, None) => None,
    }
}

/// Text that came from the network (id_token claims, OAuth error descriptions,
/// callback parameters), made safe to show on a terminal or a page: control
/// characters (C0, DEL, C1, so every escape sequence's ESC/CSI) and the bidi
/// embedding, override and isolate marks become U+FFFD, so a server can neither
/// drive the terminal nor reorder what the user reads. Other Unicode is kept.
pub fn terminal_safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            let bidi = matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}');
            if c.is_control() || bidi { '\u{FFFD}' } else { c }
        })
        .collect()
}

/// ` --profile NAME` for commands the user should run, empty for the default profile.
pub fn profile_flag(profile: &str) -> String {
    if profile == "default" {
        String::new()
    } else {
        format!(" --profile {profile}")
    }
}

/// The command that signs this profile in: `mcpgw login` or `mcpgw login --profile work`.
pub fn login_command(profile: &str) -> String {
    format!("mcpgw login{}", profile_flag(profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_relative_times() {
        assert_eq!(duration(42), "42 s");
        assert_eq!(duration(3 * 3600 + 600), "3 h 10 min");
        assert_eq!(duration(-5), "5 s");
        assert_eq!(duration(2 * 86_400 + 4 * 3600), "2 d 4 h");
        assert_eq!(relative(120), "in 2 min");
        assert_eq!(relative(-3700), "1 h 1 min ago");
    }

    #[test]
    fn who_prefers_name_then_account() {
        assert_eq!(
            who(Some("alice"), Some("1")).as_deref(),
            Some("alice (account 1)")
        );
        assert_eq!(who(None, Some("1")).as_deref(), Some("account 1"));
        assert_eq!(who(Some("s"), None).as_deref(), Some("s"));
        assert_eq!(who(None, None), None);
    }

    #[test]
    fn remote_text_loses_control_and_bidi_characters() {
        assert_eq!(
            terminal_safe("alice@1234.onaliyun.com"),
            "alice@1234.onaliyun.com"
        );
        assert_eq!(terminal_safe("名字 Zoë"), "名字 Zoë");
        let hostile =
            "a\x1b[31mred\x1b]0;title\x07\u{9b}2J\x7f\r\nb\u{202E}cba\u{2066}x\u{2069}\u{200F}";
        let safe = terminal_safe(hostile);
        assert!(
            !safe.chars().any(|c| c.is_control()
                || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200F}')),
            "{safe:?}"
        );
        assert_eq!(
            safe,
            "a\u{FFFD}[31mred\u{FFFD}]0;title\u{FFFD}\u{FFFD}2J\u{FFFD}\u{FFFD}\u{FFFD}b\u{FFFD}cba\u{FFFD}x\u{FFFD}\u{FFFD}"
        );
    }

    #[test]
    fn profile_hints() {
        assert_eq!(login_command("default"), "mcpgw login");
        assert_eq!(login_command("work"), "mcpgw login --profile work");
    }
}
