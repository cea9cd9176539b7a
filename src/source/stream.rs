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
    let (ptx, prx) = bounded::<io::Result<Vec<u8>>>(QUEUE_PIECES);
    let reader_thread = std::thread::Builder::new()
        .name("leakhound-reader".into())
        .spawn(move || read_pieces(reader, &ptx))
        .expect("spawning a thread succeeds");
    let mut stream = StreamScanner::new(Arc::clone(scanner), name, cfg.findings);
    let mut found = Vec::new();
    let mut pass = Vec::new();
    let mut failed = None;
    let mut open = true;
    while open {
        pass.clear();
        match prx.recv() {
            Ok(Ok(piece)) => pass.extend_from_slice(&piece),
            Ok(Err(e)) => {
                failed = Some(e);
                open = false;
            }
            Err(_) => open = false,
        }
        while open && pass.len() < PASS_BYTES {
            match prx.try_recv() {
                Ok(Ok(piece)) => pass.extend_from_slice(&piece),
                Ok(Err(e)) => {
                    failed = Some(e);
                    open = false;
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        if !pass.is_empty() {
            stream.push(&pass, &mut found);
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

fn read_pieces<R: Read>(mut reader: R, tx: &Sender<io::Result<Vec<u8>>>) {
    loop {
        let mut piece = vec![0; PIECE_BYTES];
        match reader.read(&mut piece) {
            Ok(0) => return,
            Ok(n) => {
                piece.truncate(n);
                if n < PIECE_BYTES / 16 {
                    piece.shrink_to_fit();
                }
                if tx.send(Ok(piece)).is_err() {
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
