//! Streams: stdin and other non-seekable inputs (stdin redirected from a regular file is scanned
//! as that file instead, by [`super::fs::scan_stdin_file`]). A reader thread reads into large
//! buffers and hands each over, on a channel that holds one, as soon as the scanning side has
//! taken the last one or nothing more can be read at once; the scanner scans each buffer where
//! it lies ([`StreamScanner::feed_buffer`]). So a fast producer gets passes of up to
//! [`PASS_BYTES`], a slow one (`tail -f`) gets its findings as soon as each line arrives, and no
//! byte is copied between the read and the scan. Memory stays bounded: four buffers of
//! [`ROOM`] + [`PASS_BYTES`] at most (one scanned, one waiting, one read into, one spare), plus
//! the scanner's context when it outgrows the room.
//!
//! An archive or compressed stream on stdin (recognised by its first bytes' magic) cannot be
//! scanned piece by piece: it is read whole, up to `--max-filesize`, and scanned as one input by
//! [`crate::content::Layers`]. Plain text keeps streaming; its encoded runs are decoded a line at
//! a time, as each line completes (see [`StreamScanner::decoding`]).

use std::fs::File;
use std::io::{self, Read};
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver, Sender};

use crate::archive;
use crate::chunk::StreamScanner;
use crate::content::{Layers, Output};
use crate::engine::Scanner;
use crate::scan::{Counters, Event, ScanConfig, SkipReason};

/// Bytes at the front of each buffer left free for the context the scanner keeps from the last
/// pass (`2W + 2` bytes and the incomplete last line; more is copied instead).
pub const ROOM: usize = 256 * 1024;
/// Most bytes read into one buffer, and so scanned in one pass.
pub const PASS_BYTES: usize = 4 * 1024 * 1024;
/// Buffers in use at once: scanned, waiting, read into, spare.
const BUFFERS: usize = 4;

/// A stream's reader.
pub trait Source: Read + Send + 'static {
    /// Whether a read would return without waiting (with data, the end or an error). Only
    /// readers that never wait may keep the default.
    fn ready(&self) -> bool {
        true
    }

    /// Whether another process writes the stream as it is read (a pipe or a FIFO), and so
    /// needs CPU beside the scan.
    fn piped(&self) -> bool {
        false
    }
}

impl Source for io::Stdin {
    fn ready(&self) -> bool {
        fd_ready(0)
    }

    fn piped(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::fd::AsFd;
            let Ok(fd) = self.as_fd().try_clone_to_owned() else {
                return false;
            };
            File::from(fd).piped()
        }
        #[cfg(not(unix))]
        false
    }
}

impl Source for File {
    fn ready(&self) -> bool {
        #[cfg(unix)]
        return fd_ready(std::os::fd::AsRawFd::as_raw_fd(self));
        #[cfg(not(unix))]
        return false;
    }

    fn piped(&self) -> bool {
        #[cfg(unix)]
        {
            use std::os::unix::fs::FileTypeExt;
            self.metadata().is_ok_and(|m| m.file_type().is_fifo())
        }
        #[cfg(not(unix))]
        false
    }
}

impl<T: AsRef<[u8]> + Send + 'static> Source for io::Cursor<T> {}

/// Whether file descriptor `fd` has data (or its end, or an error) waiting: a `poll` that does
/// not wait. Where it cannot tell, false, so that what was read is handed over.
fn fd_ready(fd: i32) -> bool {
    #[cfg(target_os = "linux")]
    {
        let mut p = libc::pollfd {
            fd,
            events: libc::POLLIN,
            revents: 0,
        };
        // SAFETY: `p` is one valid pollfd for the duration of the call, which does not wait.
        unsafe { libc::poll(&mut p, 1, 0) == 1 }
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = fd;
        false
    }
}

/// Scan `reader` to its end as one stream named `name`. Read errors end the stream with a
/// warning (what was read is still scanned and reported). Returns false if the reporter hung up.
pub fn scan_stream<R: Source>(
    reader: R,
    name: &str,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> bool {
    let piped = reader.piped();
    let (ptx, prx) = bounded::<io::Result<Filled>>(1);
    // Scanned buffers go back to the reader, so that reading allocates nothing per pass.
    let (free_tx, free_rx) = bounded::<Vec<u8>>(BUFFERS);
    let reader_thread = std::thread::Builder::new()
        .name("leakhound-reader".into())
        .spawn(move || read_buffers(reader, &ptx, &free_rx))
        .expect("spawning a thread succeeds");
    let mut filled = Buffers {
        rx: prx,
        free: free_tx,
        failed: None,
    };
    // The first bytes say whether this is an archive or compressed stream (magic bytes). A
    // first buffer too short to tell (a slow producer's first line) is gathered with the next.
    let mut head = Vec::new();
    let mut first = filled.recv();
    while let Some(f) = first.take() {
        if head.is_empty() && !archive::undecided(f.data()) {
            first = Some(f);
            break;
        }
        head.extend_from_slice(f.data());
        filled.recycle(f.buf);
        if !archive::undecided(&head) {
            break;
        }
        first = filled.recv();
    }
    let sniffed = first.as_ref().map_or(&head[..], Filled::data);
    if cfg.archive.max_depth > 0 && archive::sniff(sniffed).is_some() {
        let data = first.map_or(head, |f| f.data().to_vec());
        return scan_buffered(data, filled, name, scanner, cfg, counters, tx);
    }
    let mut stream = StreamScanner::new(Arc::clone(scanner), name, cfg.findings.clone());
    // A pipe's producer needs a core: on 2 cores, `cat FILE |` took x1.07 as long with the
    // stream split across both (see the README's "Performance").
    let threads = if piped && !cfg.threads_asked {
        cfg.threads.saturating_sub(1).max(1)
    } else {
        cfg.threads
    };
    stream.threads(threads).decoding(cfg);
    stream.feed(&head);
    let mut next = first.or_else(|| filled.recv());
    let mut found = Vec::new();
    loop {
        // Each pass is reported before the next buffer is waited for (`tail -f`).
        let more = next.is_some();
        if let Some(f) = next.take() {
            let spent = stream.feed_buffer(f.buf, ROOM, f.end);
            filled.recycle(spent);
            stream.flush(&mut found);
        } else {
            stream.finish(&mut found);
        }
        for w in stream.take_warnings() {
            if tx.send(Event::Warning(w)).is_err() {
                return false;
            }
        }
        if !found.is_empty()
            && tx
                .send(Event::Findings(std::mem::take(&mut found)))
                .is_err()
        {
            return false;
        }
        if !more {
            break;
        }
        next = filled.recv();
    }
    let failed = filled.failed.take();
    drop(filled);
    let _ = reader_thread.join();
    counters.scanned(stream.bytes());
    if let Some(e) = failed {
        counters.error();
        let _ = tx.send(Event::Warning(format!("{name}: read error: {e}")));
    }
    true
}

/// A buffer from the reader: its data is `buf[ROOM..end]`.
struct Filled {
    buf: Vec<u8>,
    end: usize,
}

impl Filled {
    fn data(&self) -> &[u8] {
        &self.buf[ROOM..self.end]
    }
}

/// The scanning side of the reader thread's channel.
struct Buffers {
    rx: Receiver<io::Result<Filled>>,
    /// Scanned buffers go back to the reader.
    free: Sender<Vec<u8>>,
    /// The read error that ended the stream.
    failed: Option<io::Error>,
}

impl Buffers {
    /// Wait for the next buffer; `None` at the end of the stream (or its error).
    fn recv(&mut self) -> Option<Filled> {
        match self.rx.recv() {
            Ok(Ok(f)) => Some(f),
            Ok(Err(e)) => {
                self.failed = Some(e);
                None
            }
            Err(_) => None,
        }
    }

    fn recycle(&self, buf: Vec<u8>) {
        if buf.len() == ROOM + PASS_BYTES {
            let _ = self.free.try_send(buf);
        }
    }
}

/// An archive on a stream: read it whole (up to `--max-filesize`) after its first bytes `head`,
/// then scan it as one input. Returns false if the reporter hung up.
fn scan_buffered(
    mut data: Vec<u8>,
    mut filled: Buffers,
    name: &str,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> bool {
    while let Some(f) = filled.recv() {
        if data.len() as u64 + f.data().len() as u64 > cfg.max_filesize {
            counters.skipped(SkipReason::TooLarge);
            return tx
                .send(Event::Warning(format!(
                    "{name}: skipped: an archive larger than --max-filesize ({} bytes) on a stream",
                    cfg.max_filesize
                )))
                .is_ok();
        }
        data.extend_from_slice(f.data());
        filled.recycle(f.buf);
    }
    if let Some(e) = filled.failed.take() {
        counters.error();
        return tx
            .send(Event::Warning(format!("{name}: read error: {e}")))
            .is_ok();
    }
    let mut out = Output::default();
    let mut scratch = scanner.scratch();
    Layers {
        scanner,
        cfg,
        counters,
    }
    .scan(&mut scratch, name, &data, &mut out);
    super::send_output(tx, out)
}

/// Ask the kernel for a larger pipe buffer on stdin when it is a pipe, so that a fast producer
/// and the reader switch less often (64 KiB by default on Linux). Failure is harmless.
pub fn enlarge_stdin_pipe() {
    #[cfg(target_os = "linux")]
    // SAFETY: fcntl on fd 0 with F_SETPIPE_SZ only changes the pipe's capacity; it fails with
    // EBADF/EINVAL (ignored) when stdin is not a pipe. No memory is passed to the kernel.
    unsafe {
        libc::fcntl(0, libc::F_SETPIPE_SZ, 1 << 20);
    }
}

/// Read `reader` to its end into buffers of `ROOM + PASS_BYTES` bytes, data after the room.
/// A buffer is handed over when it is full, when the channel is empty (the scanner has taken
/// the last one and would otherwise wait) or when the next read would wait; the channel holds
/// one, so a buffer waits at most while the scanner finishes the one before.
fn read_buffers<R: Source>(
    mut reader: R,
    tx: &Sender<io::Result<Filled>>,
    free: &Receiver<Vec<u8>>,
) {
    let fresh = || {
        free.try_recv()
            .unwrap_or_else(|_| vec![0; ROOM + PASS_BYTES])
    };
    let mut buf = fresh();
    let mut end = ROOM;
    loop {
        if end > ROOM && (end == buf.len() || tx.is_empty() || !reader.ready()) {
            if tx.send(Ok(Filled { buf, end })).is_err() {
                return;
            }
            buf = fresh();
            end = ROOM;
        }
        match reader.read(&mut buf[end..]) {
            Ok(0) => break,
            Ok(n) => end += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                if end > ROOM && tx.send(Ok(Filled { buf, end })).is_err() {
                    return;
                }
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
    if end > ROOM {
        let _ = tx.send(Ok(Filled { buf, end }));
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn pipes_are_told_from_files() {
        let (r, _w) = io::pipe().unwrap();
        assert!(File::from(std::os::fd::OwnedFd::from(r)).piped());
        assert!(!File::open(file!()).unwrap().piped());
        assert!(!io::Cursor::new(b"x").piped());
    }
}
