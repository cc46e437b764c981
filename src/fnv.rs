//! FNV-1a, 64 bits: a hash stable across builds and Rust versions (std's hashers are not), for
//! names and ids that two binaries, or two runs, must compute alike (`/health`'s
//! `stateDirId`, default output file names).

/// The FNV-1a 64-bit hash of `bytes`.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, b| {
        (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
