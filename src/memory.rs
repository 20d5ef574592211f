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

/// Large messages in mappings of their own, sealed once whole.
#[cfg(target_os = "linux")]
pub(crate) mod mapped {
    use std::ops::Range;
    use std::ptr::NonNull;
    use std::sync::{Condvar, Mutex};

    /// The address ranges of the sealed mappings alive now.
    static SEALED: Mutex<Vec<Range<usize>>> = Mutex::new(Vec::new());

    /// The mapping that waits, its pages faulted in, for the next large message.
    static WAITING: Mutex<Waiting> = Mutex::new(Waiting {
        mapping: None,
        filling: false,
        generation: 0,
    });

    /// Signalled when a fill is over.
    static FILLED: Condvar = Condvar::new();

    struct Waiting {
        mapping: Option<Mapping>,
        /// A mapping is being filled for this slot.
        filling: bool,
        /// Counts releases: a fill that started before one is not kept.
        generation: u64,
    }

    pub fn release() {
        let mut waiting = WAITING.lock().unwrap();
        waiting.generation += 1;
        drop(waiting.mapping.take());
    }

    pub fn is_sealed(bytes: &[u8]) -> bool {
        let start = bytes.as_ptr() as usize;
        let end = start + bytes.len();
        SEALED
            .lock()
            .unwrap()
            .iter()
            .any(|sealed| sealed.start <= start && end <= sealed.end)
    }

    /// Bytes faulted in between two looks at whether the fill is still wanted.
    const FAULT_IN_STEP: usize = 1 << 20;

    /// Fills a mapping of `len` bytes for the next message on a blocking thread of
    /// the runtime (outside one, there is nothing to wait for), unless one is
    /// waiting or being filled. A release, or a message that could not wait for
    /// it, calls the fill off within a step.
    fn fill_waiting(len: usize) {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let generation = {
            let mut waiting = WAITING.lock().unwrap();
            if waiting.filling || waiting.mapping.is_some() {
                return;
            }
            waiting.filling = true;
            waiting.generation
        };
        runtime.spawn_blocking(move || {
            let wanted = || WAITING.lock().unwrap().generation == generation;
            let mapping = Mapping::new(len)
                .and_then(|mut mapping| mapping.fault_in(len, wanted).then_some(mapping));
            let mut waiting = WAITING.lock().unwrap();
            waiting.filling = false;
            if waiting.generation == generation {
                waiting.mapping = mapping;
            }
            FILLED.notify_all();
        });
    }

    /// Waits until no fill is under way; how much the waiting mapping holds
    /// faulted in, if one is waiting.
    #[cfg(test)]
    pub fn settled() -> Option<usize> {
        let waiting = FILLED
            .wait_while(WAITING.lock().unwrap(), |waiting| waiting.filling)
            .unwrap();
        waiting.mapping.as_ref().map(|mapping| mapping.faulted_in)
    }

    /// `bytes` in a sealed mapping of their own, for tests elsewhere.
    #[cfg(test)]
    pub fn sealed_copy(bytes: &[u8]) -> bytes::Bytes {
        let mut mapping = Mapping::new(bytes.len()).expect("an anonymous mapping");
        assert!(mapping.extend(bytes));
        bytes::Bytes::from_owner(mapping.seal())
    }

    /// An anonymous private mapping, written only through `extend`.
    pub struct Mapping {
        start: NonNull<u8>,
        len: usize,
        capacity: usize,
        /// Bytes whose pages were faulted in ahead (a waiting mapping's).
        faulted_in: usize,
    }

    // SAFETY: the mapping is owned memory like a Vec's; nothing else refers to it.
    unsafe impl Send for Mapping {}
    // SAFETY: shared, it is only read.
    unsafe impl Sync for Mapping {}

    fn page_size() -> usize {
        // SAFETY: sysconf only reads a constant of the system.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
    }

    fn whole_pages(bytes: usize) -> Option<usize> {
        bytes.max(1).checked_next_multiple_of(page_size())
    }

    impl Mapping {
        /// For a message that needs `capacity` bytes: the waiting mapping (it
        /// grows if it is too small), or else a new one; `None` when the OS says no.
        pub fn for_message(capacity: usize) -> Option<Self> {
            let mut waiting = WAITING.lock().unwrap();
            if let Some(mapping) = waiting.mapping.take() {
                return Some(mapping);
            }
            // A fill still under way would end as a second mapping beside this
            // message's: it is called off.
            if waiting.filling {
                waiting.generation += 1;
            }
            drop(waiting);
            Self::new(capacity)
        }

        fn new(capacity: usize) -> Option<Self> {
            let capacity = whole_pages(capacity)?;
            // SAFETY: a fresh anonymous mapping; it overlaps nothing.
            let start = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    capacity,
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                    -1,
                    0,
                )
            };
            if start == libc::MAP_FAILED {
                return None;
            }
            Some(Self {
                start: NonNull::new(start.cast())?,
                len: 0,
                capacity,
                faulted_in: 0,
            })
        }

        /// Faults in the pages of the first `len` bytes, so that writing them
        /// later costs no page faults; a step at a time, while `wanted` says so
        /// (`false` when it stopped short).
        fn fault_in(&mut self, len: usize, wanted: impl Fn() -> bool) -> bool {
            let len = len.min(self.capacity);
            while self.faulted_in < len {
                if !wanted() {
                    return false;
                }
                let step = FAULT_IN_STEP.min(len - self.faulted_in);
                // SAFETY: a range of our mapping, page-aligned (steps are whole
                // pages); populating changes no contents (zero pages).
                let populated = unsafe {
                    libc::madvise(
                        self.start.as_ptr().add(self.faulted_in).cast(),
                        step,
                        libc::MADV_POPULATE_WRITE,
                    )
                };
                if populated != 0 {
                    // Before Linux 5.14.
                    self.write_each_page(self.faulted_in..self.faulted_in + step);
                }
                self.faulted_in += step;
            }
            true
        }

        /// Faults in the pages of `range` by writing a zero to each.
        fn write_each_page(&mut self, range: Range<usize>) {
            for offset in range.step_by(page_size()) {
                // SAFETY: inside the mapping, which nothing reads yet; it holds
                // zeros before and after.
                unsafe { self.start.as_ptr().add(offset).write_volatile(0) };
            }
        }

        pub fn len(&self) -> usize {
            self.len
        }

        pub fn as_slice(&self) -> &[u8] {
            // SAFETY: the first `len` bytes are mapped and written.
            unsafe { std::slice::from_raw_parts(self.start.as_ptr(), self.len) }
        }

        /// Appends `bytes`; `false` (and nothing appended) when the mapping
        /// cannot grow. Growing moves the pages, never copies them (`mremap`).
        pub fn extend(&mut self, bytes: &[u8]) -> bool {
            let Some(needed) = self.len.checked_add(bytes.len()) else {
                return false;
            };
            if needed > self.capacity {
                let Some(capacity) = whole_pages(needed.max(self.capacity.saturating_mul(2)))
                else {
                    return false;
                };
                // SAFETY: our mapping, resized as a whole; the old address is not
                // used again.
                let start = unsafe {
                    libc::mremap(
                        self.start.as_ptr().cast(),
                        self.capacity,
                        capacity,
                        libc::MREMAP_MAYMOVE,
                    )
                };
                let Some(start) =
                    NonNull::new(start.cast::<u8>()).filter(|_| start != libc::MAP_FAILED)
                else {
                    return false;
                };
                self.start = start;
                self.capacity = capacity;
            }
            // SAFETY: `needed <= capacity`; `bytes` is not in this mapping, which
            // only `extend` writes.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    bytes.as_ptr(),
                    self.start.as_ptr().add(self.len),
                    bytes.len(),
                );
            }
            self.len = needed;
            true
        }

        /// The message is whole: from here on, nothing writes to the mapping.
        pub fn seal(self) -> Sealed {
            let start = self.start.as_ptr() as usize;
            SEALED.lock().unwrap().push(start..start + self.capacity);
            Sealed(Some(self))
        }
    }

    impl Drop for Mapping {
        fn drop(&mut self) {
            // SAFETY: our mapping, and nothing refers to it any more. Pages lent to
            // a pipe stay with the kernel until the pipe lets them go.
            unsafe { libc::munmap(self.start.as_ptr().cast(), self.capacity) };
        }
    }

    /// A whole message in its mapping, only read from here on.
    pub struct Sealed(Option<Mapping>);

    impl AsRef<[u8]> for Sealed {
        fn as_ref(&self) -> &[u8] {
            self.0.as_ref().map_or(&[], Mapping::as_slice)
        }
    }

    impl Drop for Sealed {
        fn drop(&mut self) {
            let Some(mapping) = self.0.take() else {
                return;
            };
            let start = mapping.start.as_ptr() as usize;
            // The next mapping is as large as the largest message to use this one.
            let next = mapping.len.max(mapping.faulted_in);
            SEALED
                .lock()
                .unwrap()
                .retain(|sealed| sealed.start != start);
            // Unmapped first: the next mapping is never held alongside this one.
            drop(mapping);
            if next >= super::LARGE {
                fill_waiting(next);
            }
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        /// How many of the mapping's pages are in memory.
        fn resident_pages(mapping: &Mapping) -> usize {
            let mut pages = vec![0u8; mapping.capacity / page_size()];
            // SAFETY: the range is our mapping; `pages` has a byte per page.
            let status = unsafe {
                libc::mincore(
                    mapping.start.as_ptr().cast(),
                    mapping.capacity,
                    pages.as_mut_ptr(),
                )
            };
            assert_eq!(status, 0, "mincore: {}", std::io::Error::last_os_error());
            pages.iter().filter(|&&page| page & 1 == 1).count()
        }

        #[test]
        fn faulting_in_brings_in_the_pages_asked_for_and_no_others() {
            let page = page_size();
            let len = 2 * FAULT_IN_STEP + 4 * page + 1;
            let mut populated = Mapping::new(4 * FAULT_IN_STEP).unwrap();
            assert_eq!(resident_pages(&populated), 0);
            assert!(populated.fault_in(len, || true));
            assert_eq!(resident_pages(&populated), len.div_ceil(page));
            // Called off after two steps: no further.
            let mut stopped = Mapping::new(4 * FAULT_IN_STEP).unwrap();
            let looks = std::cell::Cell::new(0);
            let wanted = || {
                looks.set(looks.get() + 1);
                looks.get() <= 2
            };
            assert!(!stopped.fault_in(len, wanted));
            assert_eq!(resident_pages(&stopped), 2 * FAULT_IN_STEP / page);
            // The way older kernels take.
            let mut written = Mapping::new(64 * page).unwrap();
            written.write_each_page(0..16 * page + 1);
            assert_eq!(resident_pages(&written), 17);
            assert!(written.extend(&[7; 100]) && written.as_slice() == [7; 100]);
        }

        #[test]
        fn a_message_that_cannot_wait_calls_off_the_fill_under_way() {
            let _turn = super::super::tests::SERIAL.lock().unwrap();
            release();
            let generation = {
                let mut waiting = WAITING.lock().unwrap();
                waiting.filling = true;
                waiting.generation
            };
            let mapping = Mapping::for_message(1 << 20).unwrap();
            let mut waiting = WAITING.lock().unwrap();
            assert_ne!(waiting.generation, generation, "called off");
            assert!(waiting.mapping.is_none());
            waiting.filling = false;
            drop(waiting);
            drop(mapping);
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
