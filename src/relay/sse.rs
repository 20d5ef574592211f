//! Server-sent events from an HTTP response, decoded by the `sse-stream` crate
//! (rmcp's decoder: incremental, no re-scan of buffered input), plus the state a
//! client needs to resume: the last event id and the server's `retry` hint.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sse_stream::{Sse, SseByteStream};

use crate::relay::message;

type EventResult = Result<Sse, sse_stream::Error>;

/// Why an event stream ended badly.
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Http(#[from] reqwest::Error),
    /// One event grew past the message size limit (bytes).
    #[error("an event is larger than the {0}-byte message limit")]
    TooLarge(usize),
}

impl StreamError {
    /// The limit, when this error (as the decoder reports it) is an oversized event.
    pub fn too_large(err: &sse_stream::Error) -> Option<usize> {
        let sse_stream::Error::Body(inner) = err else {
            return None;
        };
        match inner.downcast_ref::<StreamError>()? {
            StreamError::TooLarge(limit) => Some(*limit),
            StreamError::Http(_) => None,
        }
    }
}

pub struct EventStream {
    events: Pin<Box<dyn Stream<Item = EventResult> + Send>>,
    /// The id of the last event that carried one; sent as `Last-Event-ID` on resume.
    pub last_event_id: Option<String>,
    /// How long the server asked clients to wait before reconnecting.
    pub retry: Option<Duration>,
}

impl EventStream {
    /// The events of `response`; none may be larger than `max_event` bytes.
    pub fn new(response: reqwest::Response, max_event: usize) -> Self {
        Self::from_bytes(bounded(response.bytes_stream(), max_event))
    }

    pub fn from_bytes<S>(bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, StreamError>> + Send + 'static,
    {
        Self {
            events: Box::pin(SseByteStream::new(bytes)),
            last_event_id: None,
            retry: None,
        }
    }

    /// The next JSON-RPC message on the stream, as one line of bytes. Events
    /// without data (priming events, keep-alives) only update the resume state.
    /// `None` when the server closed the stream.
    pub async fn next_message(&mut self) -> Option<Result<Bytes, sse_stream::Error>> {
        while let Some(event) = self.events.next().await {
            let event = match event {
                Ok(event) => event,
                Err(err) => return Some(Err(err)),
            };
            if let Some(id) = event.id {
                self.last_event_id = Some(id);
            }
            if let Some(retry) = event.retry {
                self.retry = Some(Duration::from_millis(retry));
            }
            match event.data {
                Some(data) if !data.trim().is_empty() => {
                    return Some(Ok(one_line(data.into_bytes())));
                }
                _ => continue,
            }
        }
        None
    }
}

/// Passes the bytes on, failing once more than `limit` bytes arrive without an
/// event boundary (a blank line): the decoder buffers an event whole, so this is
/// what keeps a stream that never ends an event from growing memory without bound.
fn bounded<S>(bytes: S, limit: usize) -> impl Stream<Item = Result<Bytes, StreamError>> + Send
where
    S: Stream<Item = Result<Bytes, reqwest::Error>> + Send,
{
    let mut since_boundary = 0usize;
    // The last two bytes seen, for boundaries split across chunks.
    let mut tail = [0u8; 2];
    bytes.map(move |chunk| {
        let chunk = chunk?;
        let mut boundary_end = None;
        for at in memchr::memchr2_iter(b'\n', b'\r', &chunk) {
            let before = |back: usize| -> u8 {
                if at >= back {
                    chunk[at - back]
                } else {
                    tail[2 - (back - at)]
                }
            };
            let ends_event = match chunk[at] {
                b'\n' => before(1) == b'\n' || (before(1) == b'\r' && before(2) == b'\n'),
                _ => before(1) == b'\r',
            };
            if ends_event {
                boundary_end = Some(at + 1);
            }
        }
        since_boundary = match boundary_end {
            Some(end) => chunk.len() - end,
            None => since_boundary.saturating_add(chunk.len()),
        };
        tail = match chunk.len() {
            0 => tail,
            1 => [tail[1], chunk[0]],
            n => [chunk[n - 2], chunk[n - 1]],
        };
        if since_boundary > limit {
            return Err(StreamError::TooLarge(limit));
        }
        Ok(chunk)
    })
}

/// Makes a JSON text a single stdout line. Outside strings a raw CR or LF can
/// only be whitespace (inside strings JSON requires escapes), so replacing them
/// with spaces keeps the value identical. Bodies without one (the usual case,
/// however large) are passed on without a copy.
pub fn one_line(json: impl Into<Bytes>) -> Bytes {
    let json: Bytes = json.into();
    let end = json.len()
        - json
            .iter()
            .rev()
            .take_while(|b| message::is_json_space(b))
            .count();
    let json = json.slice(..end);
    let Some(first) = memchr::memchr2(b'\n', b'\r', &json) else {
        return json;
    };
    let mut owned = Vec::from(json);
    let mut at = first;
    loop {
        owned[at] = b' ';
        match memchr::memchr2(b'\n', b'\r', &owned[at + 1..]) {
            Some(next) => at += 1 + next,
            None => break,
        }
    }
    Bytes::from(owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stream_of(chunks: &[&'static str]) -> EventStream {
        bounded_stream_of(chunks, usize::MAX)
    }

    fn bounded_stream_of(chunks: &[&'static str], limit: usize) -> EventStream {
        let chunks: Vec<Result<Bytes, reqwest::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        EventStream::from_bytes(bounded(futures_util::stream::iter(chunks), limit))
    }

    #[tokio::test]
    async fn an_event_over_the_limit_ends_the_stream() {
        // Many small events pass a small limit: only one event's size counts.
        let mut events = bounded_stream_of(
            &[
                "data: {\"a\":1}\n\n",
                "data: {\"a\":2}\r\n\r",
                "\n",
                "data: {\"a\":3}\r\r",
            ],
            16,
        );
        for n in 1..=3 {
            let message = events.next_message().await.unwrap().unwrap();
            assert_eq!(message, format!("{{\"a\":{n}}}").as_bytes());
        }
        assert!(events.next_message().await.is_none());
        // An event that never ends stops at the limit.
        let mut events =
            bounded_stream_of(&["data: {\"a\":\"", "xxxxxxxx", "xxxxxxxx", "\"}\n\n"], 16);
        let err = events.next_message().await.unwrap().unwrap_err();
        assert_eq!(StreamError::too_large(&err), Some(16));
    }

    #[tokio::test]
    async fn skips_priming_event_and_tracks_id_and_retry() {
        let mut events = stream_of(&[
            "id: p1\nretry: 250\ndata:\n\n",
            "id: 7\nevent: message\ndata: {\"a\":\n",
            "data: 1}\n\n",
        ]);
        let message = events.next_message().await.unwrap().unwrap();
        assert_eq!(&message[..], b"{\"a\": 1}");
        assert_eq!(events.last_event_id.as_deref(), Some("7"));
        assert_eq!(events.retry, Some(Duration::from_millis(250)));
        assert!(events.next_message().await.is_none());
    }

    #[tokio::test]
    async fn event_split_across_chunks_arrives_whole() {
        let mut events = stream_of(&[
            "da",
            "ta: {\"x\":\"é",
            "\"}\r\n",
            "\r\n",
            ": keep-alive\n\n",
        ]);
        assert_eq!(
            &events.next_message().await.unwrap().unwrap()[..],
            "{\"x\":\"é\"}".as_bytes()
        );
        assert!(events.next_message().await.is_none());
        assert_eq!(events.last_event_id, None);
    }

    #[test]
    fn one_line_replaces_raw_newlines_only() {
        let pretty = b"{\n  \"s\": \"a\\nb\"\r\n}\n".to_vec();
        let line = one_line(pretty);
        assert_eq!(&line[..], b"{   \"s\": \"a\\nb\"  }");
        let parsed: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(parsed["s"], "a\nb");
    }
}
