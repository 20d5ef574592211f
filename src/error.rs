//! The CLI path's one error type: a message, an optional hint, the exit code and
//! the underlying cause (kept, not flattened). `main` prints it once and exits.
//! The relay path has its own type, `relay::errors::Failure`, which becomes a
//! JSON-RPC error instead.

use std::error::Error as StdError;
use std::fmt;

/// Exit codes, in the spirit of uv: 1 = the user has something to fix
/// (not logged in, unknown service, bad config), 2 = usage or internal error.
pub const EXIT_FAILURE: i32 = 1;
pub const EXIT_USAGE: i32 = 2;

pub type CliResult<T = ()> = Result<T, CliError>;

type Source = Box<dyn StdError + Send + Sync + 'static>;

pub struct CliError {
    pub message: String,
    pub hint: Option<String>,
    pub exit_code: i32,
    source: Option<Source>,
}

impl CliError {
    /// Something the user can fix (exit 1).
    pub fn user(message: impl Into<String>) -> Self {
        Self::with_code(message, EXIT_FAILURE)
    }

    /// A command line that cannot work as given (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self::with_code(message, EXIT_USAGE)
    }

    /// Something went wrong that the user did not cause (exit 2).
    pub fn internal(message: impl Into<String>) -> Self {
        Self::with_code(message, EXIT_USAGE)
    }

    /// The command's output already said what is wrong: exit 1, print nothing more.
    pub fn reported() -> Self {
        Self::with_code(String::new(), EXIT_FAILURE)
    }

    fn with_code(message: impl Into<String>, exit_code: i32) -> Self {
        Self {
            message: message.into(),
            hint: None,
            exit_code,
            source: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn with_source(mut self, source: impl Into<Source>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// Whether `main` has anything to print for it.
    pub fn is_reported(&self) -> bool {
        self.message.is_empty()
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CliError")
            .field("message", &self.message)
            .field("hint", &self.hint)
            .field("exit_code", &self.exit_code)
            .field("source", &self.source.as_ref().map(|s| s.to_string()))
            .finish()
    }
}

impl StdError for CliError {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        self.source
            .as_deref()
            .map(|s| s as &(dyn StdError + 'static))
    }
}

/// A bare I/O error (writing command output, say) is not the user's doing.
impl From<std::io::Error> for CliError {
    fn from(err: std::io::Error) -> Self {
        CliError::internal("input/output error").with_source(err)
    }
}

impl From<serde_json::Error> for CliError {
    fn from(err: serde_json::Error) -> Self {
        CliError::internal("cannot serialise the output as JSON").with_source(err)
    }
}

/// `.context("what was being done")` on any error: an internal [`CliError`] that
/// keeps the error as its source; `.user_context(..)` when the user can fix it.
pub trait Context<T> {
    fn context(self, message: impl Into<String>) -> CliResult<T>;
    fn user_context(self, message: impl Into<String>) -> CliResult<T>;
}

impl<T, E: StdError + Send + Sync + 'static> Context<T> for Result<T, E> {
    fn context(self, message: impl Into<String>) -> CliResult<T> {
        self.map_err(|err| CliError::internal(message).with_source(err))
    }

    fn user_context(self, message: impl Into<String>) -> CliResult<T> {
        self.map_err(|err| CliError::user(message).with_source(err))
    }
}

/// An error and its causes, each shown once: `a: b: c`. Causes whose text is
/// already part of the previous one (reqwest and hyper repeat themselves) are left out.
pub fn full_message(err: &(dyn StdError + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !cause_text.is_empty() && !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_are_kept_and_shown_once() {
        let io = std::io::Error::other("disk on fire");
        let err = Err::<(), _>(io)
            .user_context("cannot write config file x")
            .unwrap_err();
        assert_eq!(err.exit_code, EXIT_FAILURE);
        assert_eq!(err.source().unwrap().to_string(), "disk on fire");
        assert_eq!(
            full_message(&err),
            "cannot write config file x: disk on fire"
        );
        let repeated = CliError::internal("x: disk on fire")
            .with_source(std::io::Error::other("disk on fire"));
        assert_eq!(full_message(&repeated), "x: disk on fire");
        assert_eq!(CliError::internal("bug").exit_code, EXIT_USAGE);
    }
}
