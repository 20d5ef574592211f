//! How the process holds the memory of large messages.
//!
//! A 10 MiB result needs a 10 MiB buffer. Mapped fresh for every message, its
//! pages fault in again each time: measured 5.5 ms of the 13.5 ms a 10 MiB JSON
//! body took to arrive and be checked, against a 6 ms direct call. So the
//! buffer of the last large message is kept as a spare for the next one, and
//! dropped once no large message has passed for a while (the stdout writer
//! calls [`release`]). One buffer, reused in place: large messages do not
//! fragment the heap, and memory goes back to the OS when they stop.
//!
//! On Linux a large message gets a mapping of its own instead, and once it is
//! whole the mapping is sealed: nothing writes to it again, and it is unmapped
//! when the message is dropped. That lets the stdout writer hand its pages to
//! the client's pipe by reference instead of copying them (`vmsplice`, in
//! `relay/stdio.rs`): a 10 MiB line goes out in about 2.3 ms instead of 4. The
//! spare could not be lent so: the pipe, or whatever the client splices it on
//! to, may still hold its pages when the next message is written into them. So
//! that the next message does not fault its pages in while it arrives, a fresh
//! mapping as large as the last message is filled with zero pages off the relay's
//! thread once a sealed one is dropped, and waits as the spare does.

use std::sync::Mutex;
#[cfg(all(target_os = "linux", not(test)))]
use std::sync::atomic::{AtomicBool, Ordering};

use bytes::Bytes;

#[cfg(target_os = "linux")]
pub(crate) mod mapped;

/// A message past this size is large: its buffer is kept as the spare.
pub const LARGE: usize = 1 << 20;

/// A message that outgrows this moves into the spare, if one is waiting. Left to
/// grow a buffer of its own up to [`LARGE`], a message was copied four times over
/// and faulted in a fresh mapping on the way: half of the 2.1 ms it took to copy a
/// 10 MiB body's chunks in (1.0 ms when it moves over here).
const SPARE_FROM: usize = 64 << 10;

/// The last large message's buffer, empty, waiting for the next one.
static SPARE: Mutex<Option<Vec<u8>>> = Mutex::new(None);

/// Large messages get sealed mappings of their own (see the module comment).
#[cfg(all(target_os = "linux", not(test)))]
static MAPPED: AtomicBool = AtomicBool::new(false);

// Per test thread, so that a test of one mode does not switch another's.
#[cfg(all(target_os = "linux", test))]
thread_local! {
    static MAPPED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

#[cfg(target_os = "linux")]
fn set_mapped(on: bool) {
    #[cfg(not(test))]
    MAPPED.store(on, Ordering::Relaxed);
    #[cfg(test)]
    MAPPED.set(on);
}

#[cfg(target_os = "linux")]
fn mapped() -> bool {
    #[cfg(not(test))]
    return MAPPED.load(Ordering::Relaxed);
    #[cfg(test)]
    MAPPED.get()
}

/// Sets the allocator's policy; call first thing, before any other thread exists.
pub fn configure() {
    #[cfg(target_os = "linux")]
    set_mapped(true);
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator, and no other thread exists yet.
    unsafe {
        // A fixed threshold: glibc would otherwise raise it after each large free,
        // and large buffers would come from the heap and fragment it (measured:
        // peak memory 18 → 30 MiB over five 10 MiB results). Mapped, a buffer's
        // memory goes back the moment it is dropped.
        libc::mallopt(libc::M_MMAP_THRESHOLD, LARGE as libc::c_int);
        // No fastbins. With them, each allocation of 1 KiB or more (hyper and
        // reqwest make several per request) first merges every freed small chunk
        // back (malloc_consolidate). Measured with 64 requests in flight over
        // eight or nine benchmark runs: the lowest of five windows was 88–93 % of
        // direct throughput with fastbins and 91–93 % without, the median window
        // 92.6 % and 94.3 % on average.
        libc::mallopt(libc::M_MXFAST, 0);
    }
}

/// Drops the spare buffer, or the waiting mapping: its memory goes back to the OS.
pub fn release() {
    drop(SPARE.lock().unwrap().take());
    #[cfg(target_os = "linux")]
    mapped::release();
}

/// Whether `bytes` lie in a sealed mapping: memory this process never writes
/// again, so its pages may be lent to a pipe.
pub fn is_sealed(bytes: &[u8]) -> bool {
    #[cfg(target_os = "linux")]
    return mapped::is_sealed(bytes);
    #[cfg(not(target_os = "linux"))]
    {
        let _ = bytes;
        false
    }
}

/// The bytes of one message as they arrive.
#[derive(Default)]
pub struct MessageBuffer {
    bytes: Vec<u8>,
    /// Taken from the spare, or large: the buffer becomes the spare afterwards.
    keeps_spare: bool,
    /// Where a large message moved instead of `bytes`, on Linux.
    #[cfg(target_os = "linux")]
    mapping: Option<mapped::Mapping>,
}

impl MessageBuffer {
    pub fn len(&self) -> usize {
        #[cfg(target_os = "linux")]
        if let Some(mapping) = &self.mapping {
            return mapping.len();
        }
        self.bytes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Appends `chunk`. Once the message outgrows [`SPARE_FROM`], it moves into a
    /// mapping of its own on Linux (the waiting one, if there is one), or else into
    /// the spare buffer, whose pages are already there, as soon as one is waiting.
    pub fn extend(&mut self, chunk: &[u8]) {
        #[cfg(target_os = "linux")]
        if let Some(mapping) = &mut self.mapping {
            if mapping.extend(chunk) {
                return;
            }
            // The mapping cannot grow: the message carries on in the heap.
            self.bytes = mapping.as_slice().to_vec();
            self.mapping = None;
            self.keeps_spare = true;
        }
        let needed = self.bytes.len() + chunk.len();
        #[cfg(target_os = "linux")]
        if !self.keeps_spare
            && needed > SPARE_FROM
            && mapped()
            && let Some(mut mapping) = mapped::Mapping::for_message(needed)
            && mapping.extend(&self.bytes)
            && mapping.extend(chunk)
        {
            self.bytes = Vec::new();
            self.mapping = Some(mapping);
            return;
        }
        if !self.keeps_spare && needed > SPARE_FROM {
            if let Some(mut spare) = SPARE.lock().unwrap().take() {
                spare.reserve(needed);
                spare.extend_from_slice(&self.bytes);
                self.bytes = spare;
                self.keeps_spare = true;
            } else if needed > LARGE {
                self.keeps_spare = true;
            }
        }
        self.bytes.extend_from_slice(chunk);
    }

    /// The message. The buffer of one that used the spare, or is large, becomes
    /// the spare when the last copy of these bytes is dropped (once written to
    /// stdout).
    pub fn freeze(self) -> Bytes {
        #[cfg(target_os = "linux")]
        if let Some(mapping) = self.mapping {
            return Bytes::from_owner(mapping.seal());
        }
        if self.keeps_spare {
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

    /// The spare and the waiting mapping are one per process: their tests take turns.
    pub(super) static SERIAL: Mutex<()> = Mutex::new(());

    #[test]
    fn a_large_message_leaves_its_buffer_for_the_next() {
        let _turn = SERIAL.lock().unwrap();
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

    #[test]
    fn a_message_past_a_chunk_moves_into_the_waiting_spare_and_gives_it_back() {
        let _turn = SERIAL.lock().unwrap();
        release();
        let mut large = MessageBuffer::default();
        large.extend(&vec![1u8; LARGE + 1]);
        let large = large.freeze();
        let address = large.as_ptr();
        drop(large);
        let fill = |buffer: &mut MessageBuffer, parts: usize| {
            for part in 0..parts {
                buffer.extend(&[part as u8; SPARE_FROM / 2]);
            }
        };
        // One chunk's worth stays in a buffer of its own: the spare waits.
        let mut small = MessageBuffer::default();
        fill(&mut small, 2);
        assert_ne!(small.bytes.as_ptr(), address);
        assert!(SPARE.lock().unwrap().is_some());
        // A message that outgrows it moves over, bytes in order, and returns it.
        let mut medium = MessageBuffer::default();
        fill(&mut medium, 4);
        let medium = medium.freeze();
        assert_eq!(medium.as_ptr(), address);
        assert!(SPARE.lock().unwrap().is_none(), "in use");
        let expected: Vec<u8> = (0..4u8).flat_map(|part| [part; SPARE_FROM / 2]).collect();
        assert_eq!(&medium[..], &expected[..]);
        drop(medium);
        assert!(SPARE.lock().unwrap().is_some(), "back after the message");
        release();
    }

    /// Fills `buffer` with `parts` chunks of 64 KiB, each of its own byte.
    #[cfg(target_os = "linux")]
    fn fill_in_chunks(buffer: &mut MessageBuffer, parts: usize) -> Vec<u8> {
        let expected: Vec<u8> = (0..parts).flat_map(|part| [part as u8; 64 << 10]).collect();
        for chunk in expected.chunks(64 << 10) {
            buffer.extend(chunk);
        }
        expected
    }

    #[cfg(target_os = "linux")]
    #[tokio::test(flavor = "multi_thread", worker_threads = 1)]
    async fn a_large_message_is_sealed_in_a_mapping_and_leaves_the_next_one_faulted_in() {
        let _turn = SERIAL.lock().unwrap();
        release();
        set_mapped(true);
        let mut first = MessageBuffer::default();
        let expected = fill_in_chunks(&mut first, 20);
        let first = first.freeze();
        assert_eq!(&first[..], &expected[..]);
        assert!(is_sealed(&first) && is_sealed(&first[4096..8192]));
        assert!(!is_sealed(&expected), "heap memory is never sealed");
        drop(first);
        let faulted_in = mapped::settled().expect("a mapping waits for the next message");
        assert_eq!(faulted_in, expected.len());
        // The next message takes it, and grows it when it is larger.
        let mut second = MessageBuffer::default();
        let expected = fill_in_chunks(&mut second, 30);
        assert_eq!(mapped::settled(), None, "in use");
        let second = second.freeze();
        assert_eq!(&second[..], &expected[..]);
        assert!(is_sealed(&second));
        drop(second);
        assert_eq!(mapped::settled(), Some(expected.len()));
        release();
        assert_eq!(mapped::settled(), None, "released");
        // A medium message gets a mapping, but leaves none waiting.
        let mut medium = MessageBuffer::default();
        let expected = fill_in_chunks(&mut medium, 4);
        let medium = medium.freeze();
        assert_eq!(&medium[..], &expected[..]);
        assert!(is_sealed(&medium));
        drop(medium);
        assert_eq!(mapped::settled(), None);
        set_mapped(false);
    }
}
