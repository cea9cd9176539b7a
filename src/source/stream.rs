//! Streams: stdin and other non-seekable inputs (stdin redirected from a regular file is scanned
//! as that file instead, by [`super::fs::scan_stdin_file`]). A reader thread reads pieces and
//! sends them on a bounded channel; the scanning side takes whatever has arrived (up to
//! [`PASS_BYTES`]) and runs one [`StreamScanner`] pass over it, so a fast producer gets large
//! passes and a slow one (`tail -f`) gets its findings as soon as each line arrives. Memory stays bounded: at most
//! [`QUEUE_PIECES`] pieces of [`PIECE_BYTES`] in flight plus the scanner's context.
//!
//! An archive or compressed stream on stdin (recognised by its first bytes' magic) cannot be
//! scanned piece by piece: it is read whole, up to `--max-filesize`, and scanned as one input by
//! [`crate::content::Layers`]. Plain text keeps streaming; its encoded runs are decoded a line at
//! a time, as each line completes (see [`StreamScanner::decoding`]).

use std::io::{self, Read};
use std::sync::Arc;

use crossbeam_channel::{bounded, Sender, TryRecvError};

use crate::archive;
use crate::chunk::StreamScanner;
use crate::content::{Layers, Output};
use crate::engine::Scanner;
use crate::scan::{Counters, Event, ScanConfig, SkipReason};

/// Bytes asked of each `read` call.
pub const PIECE_BYTES: usize = 256 * 1024;
/// Pieces that may wait between the reader and the scanner.
pub const QUEUE_PIECES: usize = 16;
/// Most bytes gathered into one scanning pass.
pub const PASS_BYTES: usize = 4 * 1024 * 1024;

/// Scan `reader` to its end as one stream named `name`. Read errors end the stream with a
/// warning (what was read is still scanned and reported). Returns false if the reporter hung up.
pub fn scan_stream<R: Read + Send + 'static>(
    reader: R,
    name: &str,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> bool {
    let (ptx, prx) = bounded::<io::Result<Piece>>(QUEUE_PIECES);
    // Emptied buffers go back to the reader, so reading allocates and zeroes nothing per read.
    let (free_tx, free_rx) = bounded::<Vec<u8>>(QUEUE_PIECES + 2);
    let reader_thread = std::thread::Builder::new()
        .name("leakhound-reader".into())
        .spawn(move || read_pieces(reader, &ptx, &free_rx))
        .expect("spawning a thread succeeds");
    let mut pieces = Pieces {
        rx: prx,
        free: free_tx,
        open: true,
        failed: None,
    };
    // The first bytes say whether this is an archive or compressed stream (magic bytes).
    let mut head = Vec::new();
    while head.is_empty() || archive::undecided(&head) {
        let Some((piece, n)) = pieces.recv() else {
            break;
        };
        head.extend_from_slice(&piece[..n]);
        pieces.recycle(piece);
    }
    if cfg.archive.max_depth > 0 && archive::sniff(&head).is_some() {
        return scan_buffered(head, pieces, name, scanner, cfg, counters, tx);
    }
    let mut stream = StreamScanner::new(Arc::clone(scanner), name, cfg.findings.clone());
    stream.threads(cfg.threads).decoding(cfg);
    let mut found = Vec::new();
    let mut head = Some(head).filter(|h| !h.is_empty());
    while pieces.open || head.is_some() {
        let mut fed = 0;
        if let Some(h) = head.take() {
            fed += h.len();
            stream.feed(&h);
        } else if let Some((piece, n)) = pieces.recv() {
            fed += n;
            stream.feed(&piece[..n]);
            pieces.recycle(piece);
        }
        while fed < PASS_BYTES {
            let Some((piece, n)) = pieces.try_recv() else {
                break;
            };
            fed += n;
            stream.feed(&piece[..n]);
            pieces.recycle(piece);
        }
        if fed > 0 {
            stream.flush(&mut found);
        }
        if !pieces.open {
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
    }
    let failed = pieces.failed.take();
    drop(pieces);
    let _ = reader_thread.join();
    counters.scanned(stream.bytes());
    if let Some(e) = failed {
        counters.error();
        let _ = tx.send(Event::Warning(format!("{name}: read error: {e}")));
    }
    true
}

/// The scanning side of the reader thread's channel.
struct Pieces {
    rx: crossbeam_channel::Receiver<io::Result<Piece>>,
    /// Emptied buffers go back to the reader.
    free: Sender<Vec<u8>>,
    /// False once the stream ended or failed.
    open: bool,
    /// The read error that ended the stream.
    failed: Option<io::Error>,
}

impl Pieces {
    /// Wait for the next piece; `None` at the end of the stream.
    fn recv(&mut self) -> Option<Piece> {
        if !self.open {
            return None;
        }
        let got = self.rx.recv().ok();
        self.take(got)
    }

    /// The next piece if one has arrived; `None` if none has or the stream ended.
    fn try_recv(&mut self) -> Option<Piece> {
        if !self.open {
            return None;
        }
        match self.rx.try_recv() {
            Ok(r) => self.take(Some(r)),
            Err(TryRecvError::Empty) => None,
            Err(TryRecvError::Disconnected) => self.take(None),
        }
    }

    fn take(&mut self, got: Option<io::Result<Piece>>) -> Option<Piece> {
        match got {
            Some(Ok(piece)) => Some(piece),
            Some(Err(e)) => {
                self.failed = Some(e);
                self.open = false;
                None
            }
            None => {
                self.open = false;
                None
            }
        }
    }

    fn recycle(&self, piece: Vec<u8>) {
        let _ = self.free.try_send(piece);
    }
}

/// An archive on a stream: read it whole (up to `--max-filesize`) after its first bytes `head`,
/// then scan it as one input. Returns false if the reporter hung up.
fn scan_buffered(
    mut data: Vec<u8>,
    mut pieces: Pieces,
    name: &str,
    scanner: &Arc<Scanner>,
    cfg: &ScanConfig,
    counters: &Counters,
    tx: &Sender<Event>,
) -> bool {
    while let Some((piece, n)) = pieces.recv() {
        if data.len() as u64 + n as u64 > cfg.max_filesize {
            counters.skipped(SkipReason::TooLarge);
            return tx
                .send(Event::Warning(format!(
                    "{name}: skipped: an archive larger than --max-filesize ({} bytes) on a stream",
                    cfg.max_filesize
                )))
                .is_ok();
        }
        data.extend_from_slice(&piece[..n]);
        pieces.recycle(piece);
    }
    if let Some(e) = pieces.failed.take() {
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

/// A buffer of `PIECE_BYTES` and how many of its leading bytes were read.
type Piece = (Vec<u8>, usize);

fn read_pieces<R: Read>(
    mut reader: R,
    tx: &Sender<io::Result<Piece>>,
    free: &crossbeam_channel::Receiver<Vec<u8>>,
) {
    loop {
        let mut piece = free.try_recv().unwrap_or_else(|_| vec![0; PIECE_BYTES]);
        match reader.read(&mut piece) {
            Ok(0) => return,
            Ok(n) => {
                if tx.send(Ok((piece, n))).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}
