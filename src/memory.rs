//! How the process holds the memory of large messages.
//!
//! A 10 MiB result needs a 10 MiB buffer. Mapped fresh for every message, its
//! pages fault in again each time: measured 5.5 ms of the 13.5 ms a 10 MiB JSON
//! body took to arrive and be checked, against a 6 ms direct call. So the
//! buffer of the last large message is kept as a spare for the next one, and
//! dropped once no large message has passed for a while (the stdout writer
//! calls [`release`]). One buffer, reused in place: large messages do not
//! fragment the heap, and memory goes back to the OS when they stop.

use std::sync::Mutex;

use bytes::Bytes;

/// A message past this size is large: its buffer comes from the spare.
pub const LARGE: usize = 1 << 20;

/// The last large message's buffer, empty, waiting for the next one.
static SPARE: Mutex<Option<Vec<u8>>> = Mutex::new(None);

/// Sets the allocator's policy; call first thing, before any other thread exists.
pub fn configure() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, and no other thread exists yet.
    unsafe {
        // A fixed threshold: glibc would otherwise raise it after each large free,
        // and large buffers would come from the heap and fragment it (measured:
        // peak memory 18 → 30 MiB over five 10 MiB results). Mapped, a buffer's
        // memory goes back the moment it is dropped.
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE as libc::c_int);
    }
}

/// Drops the spare buffer: its memory goes back to the OS.
pub fn release() {
    drop(SPARE.lock().unwrap().take());
}

/// The bytes of one message as they arrive.
#[derive(Default)]
pub struct MessageBuffer {
    bytes: Vec<u8>,
    /// Taken from (and going back to) the spare.
    large: bool,
}

impl MessageBuffer {
    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// Appends `chunk`. The first time the message outgrows [`LARGE`], it moves
    /// into the spare buffer, whose pages are already there.
    pub fn extend(&mut self, chunk: &[u8]) {
        let needed = self.bytes.len() + chunk.len();
        if !self.large && needed > LARGE {
            self.large = true;
            if let Some(mut spare) = SPARE.lock().unwrap().take() {
                spare.reserve(needed);
                spare.extend_from_slice(&self.bytes);
                self.bytes = spare;
            }
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The message. A large one's buffer becomes the spare again when the last
    /// copy of these bytes is dropped (once written to stdout).
    pub fn freeze(self) -> Bytes {
        if self.large {
            Bytes::from_owner(Spare(self.bytes))
        } else {
            Bytes::from(self.bytes)
        }
    }
}

/// A large message's buffer on its way back to [`SPARE`].
struct Spare(Vec<u8>);

impl AsRef<[u8]> for Spare {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Spare {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.0);
        buffer.clear();
        let mut spare = SPARE.lock().unwrap();
        // Of two large messages at once, the larger buffer is kept.
        if spare
            .as_ref()
            .is_none_or(|kept| kept.capacity() < buffer.capacity())
        {
            *spare = Some(buffer);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_large_message_leaves_its_buffer_for_the_next() {
        release();
        let chunk = vec![7u8; 256 << 10];
        let fill = |buffer: &mut MessageBuffer| {
            for _ in 0..8 {
                buffer.extend(&chunk);
            }
        };
        let mut first = MessageBuffer::default();
        fill(&mut first);
        let first = first.freeze();
        let address = first.as_ptr();
        assert_eq!(first.len(), 2 << 20);
        assert!(first.iter().all(|&b| b == 7));
        drop(first);
        assert!(SPARE.lock().unwrap().is_some(), "kept after the message");
        let mut second = MessageBuffer::default();
        fill(&mut second);
        let second = second.freeze();
        assert_eq!(second.as_ptr(), address, "the same buffer, reused");
        drop(second);
        release();
        assert!(SPARE.lock().unwrap().is_none(), "released");
        // Small messages never touch the spare.
        let mut small = MessageBuffer::default();
        small.extend(b"{}");
        assert_eq!(&small.freeze()[..], b"{}");
        assert!(SPARE.lock().unwrap().is_none());
    }
}
