//! Printing that never panics. `println!`/`eprintln!` panic when the write fails (a closed
//! pipe, `/dev/full`, a full disk under a redirected stream), which would turn an I/O error
//! into exit code 101 and lose the message that mattered. These macros write the same text
//! and drop a failed write: there is nowhere left to report it.

/// Like `println!`, but a failed write is ignored.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut out = std::io::stdout().lock();
        let _ = out.write_fmt(format_args!($($arg)*));
        let _ = out.write_all(b"\n");
        let _ = out.flush();
    }};
}

/// Like `eprintln!`, but a failed write is ignored.
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let mut err = std::io::stderr().lock();
        let _ = err.write_fmt(format_args!($($arg)*));
        let _ = err.write_all(b"\n");
    }};
}
