//! Large messages in mappings of their own (Linux), sealed once whole: nothing
//! writes to a sealed mapping again, and it is unmapped, never reused, when its
//! message is dropped, so its pages may be lent to a pipe. After a large message,
//! the next one's mapping is faulted in ahead on a blocking thread and waits.

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
    /// Counts call-offs (a release, or a message that could not wait): a fill
    /// that started before one stops and is not kept.
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
            let Some(capacity) = whole_pages(needed.max(self.capacity.saturating_mul(2))) else {
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
