//! A decoder for the PNGs Chromium writes (8-bit RGB or RGBA, not interlaced), so tests can
//! look at the pixels of a screenshot.

use std::io::Read;

/// A decoded 8-bit RGB(A) PNG, as Chromium writes them.
pub struct Image {
    pub width: usize,
    pub height: usize,
    channels: usize,
    pixels: Vec<u8>,
}

impl Image {
    pub fn decode(bytes: &[u8]) -> Image {
        assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
        let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
        let (mut at, mut idat) = (8, Vec::new());
        let (mut width, mut height, mut channels) = (0, 0, 0);
        while at + 8 <= bytes.len() {
            let len = be(&bytes[at..]);
            let kind = &bytes[at + 4..at + 8];
            let data = &bytes[at + 8..at + 8 + len];
            match kind {
                b"IHDR" => {
                    (width, height) = (be(data), be(&data[4..]));
                    assert_eq!(data[8], 8, "8-bit depth");
                    assert_eq!(data[12], 0, "not interlaced");
                    channels = match data[9] {
                        2 => 3,
                        6 => 4,
                        other => panic!("colour type {other}"),
                    };
                }
                b"IDAT" => idat.extend_from_slice(data),
                _ => {}
            }
            at += 12 + len;
        }
        let mut raw = Vec::new();
        flate2::read::ZlibDecoder::new(&idat[..])
            .read_to_end(&mut raw)
            .expect("inflate");
        let stride = width * channels;
        let mut pixels = vec![0u8; stride * height];
        for y in 0..height {
            let filter = raw[y * (stride + 1)];
            let line = &raw[y * (stride + 1) + 1..(y + 1) * (stride + 1)];
            for x in 0..stride {
                let a = if x >= channels {
                    pixels[y * stride + x - channels]
                } else {
                    0
                };
                let b = if y > 0 {
                    pixels[(y - 1) * stride + x]
                } else {
                    0
                };
                let c = if y > 0 && x >= channels {
                    pixels[(y - 1) * stride + x - channels]
                } else {
                    0
                };
                let predicted = match filter {
                    0 => 0,
                    1 => a,
                    2 => b,
                    3 => ((u16::from(a) + u16::from(b)) / 2) as u8,
                    4 => {
                        let p = i16::from(a) + i16::from(b) - i16::from(c);
                        let (pa, pb, pc) = (
                            (p - i16::from(a)).abs(),
                            (p - i16::from(b)).abs(),
                            (p - i16::from(c)).abs(),
                        );
                        if pa <= pb && pa <= pc {
                            a
                        } else if pb <= pc {
                            b
                        } else {
                            c
                        }
                    }
                    other => panic!("filter {other}"),
                };
                pixels[y * stride + x] = line[x].wrapping_add(predicted);
            }
        }
        Image {
            width,
            height,
            channels,
            pixels,
        }
    }

    /// The RGB of the pixel at (x, y).
    pub fn rgb(&self, x: usize, y: usize) -> [u8; 3] {
        let at = (y * self.width + x) * self.channels;
        [self.pixels[at], self.pixels[at + 1], self.pixels[at + 2]]
    }

    /// True when every pixel is (nearly) `rgb`.
    pub fn all(&self, rgb: [u8; 3]) -> bool {
        (0..self.height).all(|y| {
            (0..self.width).all(|x| {
                self.rgb(x, y)
                    .iter()
                    .zip(rgb)
                    .all(|(got, want)| got.abs_diff(want) <= 8)
            })
        })
    }
}
