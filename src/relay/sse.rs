//! Server-sent events from an HTTP response, decoded by the `sse-stream` crate
//! (rmcp's decoder: incremental, no re-scan of buffered input), plus the state a
//! client needs to resume: the last event id and the server's `retry` hint.

use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use sse_stream::{Sse, SseByteStream};

type EventResult = Result<Sse, sse_stream::Error>;

pub struct EventStream {
    events: Pin<Box<dyn Stream<Item = EventResult> + Send>>,
    /// The id of the last event that carried one; sent as `Last-Event-ID` on resume.
    pub last_event_id: Option<String>,
    /// How long the server asked clients to wait before reconnecting.
    pub retry: Option<Duration>,
}

impl EventStream {
    pub fn new(response: reqwest::Response) -> Self {
        Self::from_bytes(response.bytes_stream())
    }

    pub fn from_bytes<S>(bytes: S) -> Self
    where
        S: Stream<Item = Result<Bytes, reqwest::Error>> + Send + 'static,
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
            .take_while(|b| b.is_ascii_whitespace())
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
        let chunks: Vec<Result<Bytes, reqwest::Error>> = chunks
            .iter()
            .map(|c| Ok(Bytes::from_static(c.as_bytes())))
            .collect();
        EventStream::from_bytes(futures_util::stream::iter(chunks))
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
