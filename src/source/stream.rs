//! Streams: stdin and other non-seekable inputs. A reader thread reads pieces and sends them on a
//! bounded channel; the scanning side takes whatever has arrived (up to [`PASS_BYTES`]) and runs
//! one [`StreamScanner`] pass over it, so a fast producer gets large passes and a slow one
//! (`tail -f`) gets its findings as soon as each line arrives. Memory stays bounded: at most
//! [`QUEUE_PIECES`] pieces of [`PIECE_BYTES`] in flight plus the scanner's context.

use std::io::{self, Read};
use std::sync::Arc;

use crossbeam_channel::{bounded, Sender, TryRecvError};

use crate::chunk::StreamScanner;
use crate::engine::Scanner;
use crate::scan::{Counters, Event, ScanConfig};

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
    let mut stream = StreamScanner::new(Arc::clone(scanner), name, cfg.findings.clone());
    stream.threads(cfg.threads);
    let mut found = Vec::new();
    let mut failed = None;
    let mut open = true;
    while open {
        let mut fed = 0;
        match prx.recv() {
            Ok(Ok((piece, n))) => {
                fed += n;
                stream.feed(&piece[..n]);
                let _ = free_tx.try_send(piece);
            }
            Ok(Err(e)) => {
                failed = Some(e);
                open = false;
            }
            Err(_) => open = false,
        }
        while open && fed < PASS_BYTES {
            match prx.try_recv() {
                Ok(Ok((piece, n))) => {
                    fed += n;
                    stream.feed(&piece[..n]);
                    let _ = free_tx.try_send(piece);
                }
                Ok(Err(e)) => {
                    failed = Some(e);
                    open = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        if fed > 0 {
            stream.flush(&mut found);
        }
        if !open {
            stream.finish(&mut found);
        }
        if !found.is_empty()
            && tx
                .send(Event::Findings(std::mem::take(&mut found)))
                .is_err()
        {
            return false;
        }
    }
    drop(prx);
    let _ = reader_thread.join();
    counters.scanned(stream.bytes());
    if let Some(e) = failed {
        counters.error();
        let _ = tx.send(Event::Warning(format!("{name}: read error: {e}")));
    }
    true
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
