//! The stdio side of the relay: stdin lines in, stdout lines out, nothing else on
//! stdout.
//!
//! When stdin and stdout are pipes (the normal case: an MCP client spawned us)
//! they are driven on the runtime thread as non-blocking pipes, so a call costs no
//! thread hand-offs (measured: per-call overhead p50 from 16–140 µs, depending on
//! scheduling, to a steady ~11 µs). For a terminal or a regular file, which cannot
//! be made non-blocking, a reader and a writer thread do the blocking I/O.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::error::{CliResult, Context};
use crate::memory;
use crate::relay::message;

/// Lines at least this long are written from their own buffer instead of being
/// copied into the batch buffer.
const BATCH_BYTES: usize = 64 * 1024;
/// At shutdown the writer keeps going while the client reads; it gives up only
/// when nothing was taken for this long.
const WRITER_STALL_TIMEOUT: Duration = Duration::from_secs(5);
/// After a large line, its buffer is kept for the next one (see `memory`) and
/// returned once no large line has been written for this long.
#[cfg_attr(not(unix), allow(dead_code))]
const RELEASE_AFTER: Duration = Duration::from_secs(2);

/// One line of stdin.
#[derive(Debug)]
pub enum Input {
    /// A line without its terminator.
    Line(Bytes),
    /// A line longer than the message limit, skipped up to its newline.
    TooLong,
}

pub struct Stdio {
    /// Stdin lines; closed at EOF.
    pub lines: mpsc::Receiver<Input>,
    /// Whole lines for stdout, without their terminator.
    pub out: mpsc::Sender<Bytes>,
    /// Fires when stdout can no longer be written (the client went away).
    pub stdout_closed: oneshot::Receiver<()>,
    pub writer: StdioWriter,
}

pub struct StdioWriter {
    writer: Writer,
    /// Bytes written to stdout so far, to tell a slow reader from a stalled one.
    written: Arc<AtomicU64>,
}

enum Writer {
    Task(tokio::task::JoinHandle<()>),
    Thread(std::thread::JoinHandle<()>),
}

/// Starts reading stdin (lines of at most `max_line` bytes) and writing stdout.
/// Must run inside the runtime.
pub fn start(max_line: usize) -> CliResult<Stdio> {
    let (line_tx, lines) = mpsc::channel(64);
    let (out, out_rx) = mpsc::channel::<Bytes>(1024);
    let (closed_tx, stdout_closed) = oneshot::channel();
    let written = Arc::new(AtomicU64::new(0));

    #[cfg(unix)]
    let (reader, writer) = (pipes::stdin(), pipes::stdout());
    #[cfg(not(unix))]
    let (reader, writer) = (None::<()>, None::<()>);

    match reader {
        #[cfg(unix)]
        Some(pipe) => {
            tokio::spawn(pipes::read_lines(pipe, line_tx, max_line));
        }
        _ => spawn_reader_thread(line_tx, max_line)?,
    }
    let progress = written.clone();
    let writer = match writer {
        #[cfg(unix)]
        Some(pipe) => Writer::Task(tokio::spawn(pipes::write_lines(
            pipe, out_rx, closed_tx, progress,
        ))),
        _ => Writer::Thread(
            std::thread::Builder::new()
                .name("stdout".into())
                .spawn(move || write_lines_blocking(out_rx, closed_tx, &progress))
                .context("cannot start the stdout writer")?,
        ),
    };
    Ok(Stdio {
        lines,
        out,
        stdout_closed,
        writer: StdioWriter { writer, written },
    })
}

/// Cuts a byte stream into lines of at most `limit` bytes. Both readers feed it
/// what they have buffered; it never holds more than `limit` bytes.
struct LineAssembler {
    limit: usize,
    line: Vec<u8>,
    too_long: bool,
}

impl LineAssembler {
    fn new(limit: usize) -> Self {
        Self {
            limit,
            line: Vec::new(),
            too_long: false,
        }
    }

    /// Takes bytes from `buf`; returns how many it used and a finished line, if any.
    fn feed(&mut self, buf: &[u8]) -> (usize, Option<Input>) {
        let (take, done) = match memchr::memchr(b'\n', buf) {
            Some(at) => (at, true),
            None => (buf.len(), false),
        };
        if !self.too_long {
            if self.line.len() + take > self.limit {
                self.too_long = true;
                self.line = Vec::new();
            } else {
                self.line.extend_from_slice(&buf[..take]);
            }
        }
        if !done {
            return (take, None);
        }
        (take + 1, self.finish())
    }

    /// The line so far (at a newline or at EOF); `None` for a blank one.
    fn finish(&mut self) -> Option<Input> {
        if std::mem::take(&mut self.too_long) {
            return Some(Input::TooLong);
        }
        let mut line = std::mem::take(&mut self.line);
        strip_terminator(&mut line);
        (!message::trim_json_space(&line).is_empty()).then(|| Input::Line(Bytes::from(line)))
    }
}

impl StdioWriter {
    /// Waits until every queued line is written. Call after every clone of `out`
    /// is dropped. A slow reader gets everything; only a client that stopped
    /// reading altogether (nothing taken for [`WRITER_STALL_TIMEOUT`]) is given up on.
    pub async fn finish(self) {
        let done = async {
            match self.writer {
                Writer::Task(task) => {
                    let _ = task.await;
                }
                // Joined off the runtime thread, which must stay free to drop the last tasks.
                Writer::Thread(thread) => {
                    let _ = tokio::task::spawn_blocking(move || thread.join()).await;
                }
            }
        };
        let mut done = std::pin::pin!(done);
        let mut seen = self.written.load(Ordering::Relaxed);
        loop {
            match tokio::time::timeout(WRITER_STALL_TIMEOUT, &mut done).await {
                Ok(()) => return,
                Err(_) => {
                    let now = self.written.load(Ordering::Relaxed);
                    if now == seen {
                        tracing::warn!(
                            "the client stopped reading stdout for {}s; exiting without the rest",
                            WRITER_STALL_TIMEOUT.as_secs()
                        );
                        return;
                    }
                    seen = now;
                }
            }
        }
    }
}

/// Strips the line terminator (`\n` or `\r\n`); it is framing, not message.
fn strip_terminator(line: &mut Vec<u8>) {
    while line.last().is_some_and(|b| *b == b'\n' || *b == b'\r') {
        line.pop();
    }
}

fn spawn_reader_thread(tx: mpsc::Sender<Input>, max_line: usize) -> CliResult {
    std::thread::Builder::new()
        .name("stdin".into())
        .spawn(move || {
            let mut stdin = std::io::BufReader::with_capacity(BATCH_BYTES, std::io::stdin().lock());
            let mut lines = LineAssembler::new(max_line);
            loop {
                let buf = match stdin.fill_buf() {
                    Ok(buf) => buf,
                    Err(err) => {
                        tracing::warn!("cannot read stdin: {err}");
                        break;
                    }
                };
                if buf.is_empty() {
                    if let Some(input) = lines.finish() {
                        let _ = tx.blocking_send(input);
                    }
                    break;
                }
                let (used, input) = lines.feed(buf);
                stdin.consume(used);
                if let Some(input) = input
                    && tx.blocking_send(input).is_err()
                {
                    break;
                }
            }
        })
        .context("cannot start the stdin reader")?;
    Ok(())
}

fn write_lines_blocking(
    mut rx: mpsc::Receiver<Bytes>,
    closed: oneshot::Sender<()>,
    written: &AtomicU64,
) {
    let mut out = std::io::BufWriter::with_capacity(BATCH_BYTES, std::io::stdout().lock());
    let write_bytes = |out: &mut std::io::BufWriter<_>, line: &[u8]| -> std::io::Result<()> {
        for part in line.chunks(BATCH_BYTES) {
            out.write_all(part)?;
            written.fetch_add(part.len() as u64, Ordering::Relaxed);
        }
        out.write_all(b"\n")
    };
    // Terminals and files are not where large results stream: their buffers are
    // returned right away (see `memory`).
    let write_line = |out: &mut std::io::BufWriter<_>, line: Bytes| -> std::io::Result<()> {
        let large = line.len() >= memory::LARGE;
        let result = write_bytes(out, &line);
        if large {
            drop(line);
            memory::release();
        }
        result
    };
    while let Some(line) = rx.blocking_recv() {
        let mut result = write_line(&mut out, line);
        while result.is_ok() {
            match rx.try_recv() {
                Ok(line) => result = write_line(&mut out, line),
                Err(_) => break,
            }
        }
        if let Err(err) = result.and_then(|_| out.flush()) {
            tracing::debug!("stdout closed: {err}");
            let _ = closed.send(());
            return;
        }
    }
}

#[cfg(unix)]
mod pipes {
    use std::os::fd::AsFd;
    #[cfg(target_os = "linux")]
    use std::os::fd::AsRawFd;

    use bytes::Bytes;
    use tokio::io::{AsyncBufReadExt, AsyncWrite, AsyncWriteExt, BufReader};
    use tokio::net::unix::pipe;
    use tokio::sync::{mpsc, oneshot};
    use tokio::time::{Instant, sleep_until};

    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::{BATCH_BYTES, Input, LineAssembler, RELEASE_AFTER};
    use crate::memory;

    // `from_owned_fd` refuses anything that is not a FIFO (a tty, a file): then the
    // threads take over. It makes our end non-blocking; if stderr shares stdout's
    // pipe (`2>&1`, never the case under an MCP client) a log line could be lost
    // when the pipe is full.
    pub fn stdin() -> Option<pipe::Receiver> {
        let fd = std::io::stdin().as_fd().try_clone_to_owned().ok()?;
        pipe::Receiver::from_owned_fd(fd).ok()
    }

    pub fn stdout() -> Option<pipe::Sender> {
        let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
        let sender = pipe::Sender::from_owned_fd(fd).ok()?;
        widen(&sender);
        Some(sender)
    }

    /// A 64 KiB pipe (Linux's default) wakes the client for every 64 KiB of a large
    /// result; the largest size an unprivileged process may set (1 MiB by default)
    /// lets a 10 MiB line go out in far fewer writes. Best effort: a pipe that stays
    /// small only costs time.
    #[cfg(target_os = "linux")]
    fn widen(sender: &pipe::Sender) {
        use std::os::fd::AsRawFd;
        let max = std::fs::read_to_string("/proc/sys/fs/pipe-max-size")
            .ok()
            .and_then(|text| text.trim().parse::<libc::c_int>().ok())
            .unwrap_or(1 << 20)
            .min(MAX_PIPE_BYTES);
        // SAFETY: F_SETPIPE_SZ on a descriptor we own; it only resizes the buffer.
        let _ = unsafe { libc::fcntl(sender.as_raw_fd(), libc::F_SETPIPE_SZ, max) };
    }

    #[cfg(not(target_os = "linux"))]
    fn widen(_: &pipe::Sender) {}

    /// Above this a pipe only holds more memory, not more speed.
    #[cfg(target_os = "linux")]
    const MAX_PIPE_BYTES: libc::c_int = 1 << 20;

    /// The most one write puts into the pipe: a quarter of the widened pipe.
    /// A write that fills the pipe wakes the client only once it is done, and the
    /// client's read wakes us only once it has emptied the pipe, so each side waits
    /// out the other's copy and wake-up. Parts keep the pipe neither full nor empty,
    /// and the wake-ups overlap the copies (measured: a 10 MiB line out in
    /// 3.9–4.2 ms instead of 5.3–6.1 ms with 1 MiB writes; 64 KiB parts were no
    /// faster than 256 KiB).
    pub(super) const PIPE_WRITE_BYTES: usize = 256 << 10;

    pub async fn read_lines(pipe: pipe::Receiver, tx: mpsc::Sender<Input>, max_line: usize) {
        let mut reader = BufReader::with_capacity(BATCH_BYTES, pipe);
        let mut lines = LineAssembler::new(max_line);
        loop {
            let buf = match reader.fill_buf().await {
                Ok(buf) => buf,
                Err(err) => {
                    tracing::warn!("cannot read stdin: {err}");
                    break;
                }
            };
            if buf.is_empty() {
                if let Some(input) = lines.finish() {
                    let _ = tx.send(input).await;
                }
                break;
            }
            let (used, input) = lines.feed(buf);
            reader.consume(used);
            if let Some(input) = input
                && tx.send(input).await.is_err()
            {
                break;
            }
        }
    }

    /// Writes in parts of [`PIPE_WRITE_BYTES`], counting each, so shutdown can
    /// tell progress from a stall.
    pub(super) async fn write_counted(
        pipe: &mut (impl AsyncWrite + Unpin),
        mut bytes: &[u8],
        written: &AtomicU64,
    ) -> std::io::Result<()> {
        while !bytes.is_empty() {
            let n = pipe
                .write(&bytes[..bytes.len().min(PIPE_WRITE_BYTES)])
                .await?;
            if n == 0 {
                return Err(std::io::ErrorKind::WriteZero.into());
            }
            written.fetch_add(n as u64, Ordering::Relaxed);
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// Hands the pages of `bytes` to the pipe by reference (`vmsplice`), in
    /// parts as [`write_counted`] writes. Only for bytes in a sealed mapping
    /// (`memory::is_sealed`): the pipe, and whatever the client splices it on
    /// to, reads them after this returns, so they must never be written again.
    #[cfg(target_os = "linux")]
    pub(super) async fn splice_counted(
        pipe: &mut pipe::Sender,
        mut bytes: &[u8],
        written: &AtomicU64,
    ) -> std::io::Result<()> {
        debug_assert!(memory::is_sealed(bytes));
        while !bytes.is_empty() {
            pipe.writable().await?;
            let spliced = pipe.try_io(|| {
                let part = libc::iovec {
                    iov_base: bytes.as_ptr().cast_mut().cast(),
                    iov_len: bytes.len().min(PIPE_WRITE_BYTES),
                };
                // SAFETY: `part` lies in `bytes`, alive for the call; the kernel
                // takes references to its pages, and a sealed mapping is never
                // written again (see above).
                let n =
                    unsafe { libc::vmsplice(pipe.as_raw_fd(), &part, 1, libc::SPLICE_F_NONBLOCK) };
                usize::try_from(n).map_err(|_| std::io::Error::last_os_error())
            });
            let n = match spliced {
                Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
                Ok(n) => n,
                Err(err) if err.kind() == std::io::ErrorKind::WouldBlock => continue,
                // A sandbox that forbids vmsplice: the pages are copied instead.
                Err(err)
                    if matches!(
                        err.raw_os_error(),
                        Some(libc::EPERM | libc::ENOSYS | libc::EINVAL)
                    ) =>
                {
                    return write_counted(pipe, bytes, written).await;
                }
                Err(err) => return Err(err),
            };
            written.fetch_add(n as u64, Ordering::Relaxed);
            bytes = &bytes[n..];
        }
        Ok(())
    }

    /// A line too long to batch: its pages handed over when they are sealed,
    /// copied otherwise.
    async fn write_large(
        pipe: &mut pipe::Sender,
        bytes: &[u8],
        written: &AtomicU64,
    ) -> std::io::Result<()> {
        #[cfg(target_os = "linux")]
        if memory::is_sealed(bytes) {
            return splice_counted(pipe, bytes, written).await;
        }
        write_counted(pipe, bytes, written).await
    }

    /// Writes queued lines in batches; long lines go out from their own buffer.
    /// After large lines, free memory goes back to the OS once a quiet spell shows
    /// no more are coming.
    pub async fn write_lines(
        mut pipe: pipe::Sender,
        mut rx: mpsc::Receiver<Bytes>,
        closed: oneshot::Sender<()>,
        written: Arc<AtomicU64>,
    ) {
        let mut batch = Vec::with_capacity(BATCH_BYTES);
        let mut release_at: Option<Instant> = None;
        loop {
            let first = tokio::select! {
                line = rx.recv() => match line {
                    Some(line) => line,
                    None => break,
                },
                () = sleep_until(release_at.unwrap_or_else(Instant::now)), if release_at.is_some() => {
                    release_at = None;
                    memory::release();
                    continue;
                }
            };
            let mut next = Some(first);
            let result: std::io::Result<()> = async {
                while let Some(line) = next.take().or_else(|| rx.try_recv().ok()) {
                    if line.len() >= BATCH_BYTES {
                        if !batch.is_empty() {
                            write_counted(&mut pipe, &batch, &written).await?;
                            batch.clear();
                        }
                        write_large(&mut pipe, &line, &written).await?;
                        pipe.write_all(b"\n").await?;
                        if line.len() >= memory::LARGE {
                            release_at = Some(Instant::now() + RELEASE_AFTER);
                        }
                    } else {
                        batch.extend_from_slice(&line);
                        batch.push(b'\n');
                        if batch.len() >= BATCH_BYTES {
                            write_counted(&mut pipe, &batch, &written).await?;
                            batch.clear();
                        }
                    }
                }
                if !batch.is_empty() {
                    write_counted(&mut pipe, &batch, &written).await?;
                    batch.clear();
                }
                Ok(())
            }
            .await;
            if let Err(err) = result {
                tracing::debug!("stdout closed: {err}");
                let _ = closed.send(());
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pipe that takes whatever it is given, and remembers each write.
    #[cfg(unix)]
    #[derive(Default)]
    struct RecordingPipe {
        bytes: Vec<u8>,
        writes: Vec<usize>,
    }

    #[cfg(unix)]
    impl tokio::io::AsyncWrite for RecordingPipe {
        fn poll_write(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            self.bytes.extend_from_slice(buf);
            self.writes.push(buf.len());
            std::task::Poll::Ready(Ok(buf.len()))
        }

        fn poll_flush(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }

        fn poll_shutdown(
            self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<std::io::Result<()>> {
            std::task::Poll::Ready(Ok(()))
        }
    }

    #[cfg(unix)]
    #[tokio::test]
    async fn a_large_line_goes_out_whole_in_parts_that_leave_the_pipe_room() {
        let line: Vec<u8> = (0..(3 << 20) + 5).map(|n| (n % 251) as u8).collect();
        let mut pipe = RecordingPipe::default();
        let written = AtomicU64::new(0);
        pipes::write_counted(&mut pipe, &line, &written)
            .await
            .unwrap();
        assert_eq!(pipe.bytes, line);
        assert_eq!(written.load(Ordering::Relaxed), line.len() as u64);
        assert!(
            pipe.writes.iter().all(|&n| n <= pipes::PIPE_WRITE_BYTES),
            "{:?}",
            pipe.writes
        );
        assert_eq!(
            pipe.writes.len(),
            line.len().div_ceil(pipes::PIPE_WRITE_BYTES)
        );
    }

    /// Lines through `write_lines` into a real pipe (64 KiB, smaller than the
    /// large line), read whole on the other side.
    #[cfg(target_os = "linux")]
    async fn through_a_pipe(lines: Vec<Bytes>) -> Vec<u8> {
        use std::io::Read;
        use std::os::fd::{FromRawFd, OwnedFd};
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills `fds` with two new descriptors, owned just below.
        assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
        // SAFETY: both are ours and open.
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let reader = std::thread::spawn(move || {
            let mut all = Vec::new();
            std::fs::File::from(read_end).read_to_end(&mut all).unwrap();
            all
        });
        let sender = tokio::net::unix::pipe::Sender::from_owned_fd(write_end).unwrap();
        let (tx, rx) = mpsc::channel(lines.len());
        for line in lines {
            tx.send(line).await.unwrap();
        }
        drop(tx);
        let (closed, _) = oneshot::channel();
        pipes::write_lines(sender, rx, closed, Arc::default()).await;
        reader.join().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_sealed_line_is_lent_to_the_pipe_whole_and_in_order() {
        let large: Vec<u8> = (0..(700 << 10) + 3)
            .map(|n| b'a' + (n % 26) as u8)
            .collect();
        let sealed = memory::mapped::sealed_copy(&large);
        assert!(memory::is_sealed(&sealed));
        let out = through_a_pipe(vec![
            Bytes::from_static(b"{\"a\":1}"),
            sealed.slice(1..),
            Bytes::from_static(b"{\"b\":2}"),
        ])
        .await;
        let mut expected = b"{\"a\":1}\n".to_vec();
        expected.extend_from_slice(&large[1..]);
        expected.extend_from_slice(b"\n{\"b\":2}\n");
        assert!(
            out == expected,
            "{} bytes out, {} expected",
            out.len(),
            expected.len()
        );
    }

    fn lines_of(chunks: &[&[u8]], limit: usize) -> Vec<Option<String>> {
        let mut lines = LineAssembler::new(limit);
        let mut out = Vec::new();
        for chunk in chunks {
            let mut rest = *chunk;
            while !rest.is_empty() {
                let (used, input) = lines.feed(rest);
                rest = &rest[used..];
                out.extend(input);
            }
        }
        out.extend(lines.finish());
        out.into_iter()
            .map(|input| match input {
                Input::Line(line) => Some(String::from_utf8(line.to_vec()).unwrap()),
                Input::TooLong => None,
            })
            .collect()
    }

    #[test]
    fn lines_are_cut_at_newlines_and_the_limit() {
        assert_eq!(
            lines_of(&[b"{\"a\":1}\r\n{\"b\"", b":2}\n\n  \n{\"c\":3}"], 64),
            [
                Some("{\"a\":1}".into()),
                Some("{\"b\":2}".into()),
                Some("{\"c\":3}".into())
            ]
        );
        // Over the limit: reported once, skipped to its newline, the next line is fine.
        let long = vec![b'x'; 100];
        assert_eq!(
            lines_of(&[b"{\"a\":", &long, &long, b"}\n{\"ok\":1}\n"], 64),
            [None, Some("{\"ok\":1}".into())]
        );
        // A line that never ends holds no more than the limit.
        let mut lines = LineAssembler::new(64);
        for _ in 0..1000 {
            lines.feed(&long);
            assert!(lines.line.len() <= 64);
        }
        assert!(matches!(lines.finish(), Some(Input::TooLong)));
    }
}
