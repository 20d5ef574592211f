//! Bit masks of a 64-byte block of string content: where its quotes,
//! backslashes and control bytes are, which bytes its backslashes escape, and
//! which bytes may follow a backslash. SSE2 (the x86_64 baseline) or AVX2 where
//! the CPU has it; eight bytes per word elsewhere. The tests hold every
//! version to a byte-by-byte reading.

use super::{BLOCK, SIMPLE_ESCAPES};

/// Which backslashes of a block escape the byte after them, and which bytes they
/// escape, from the mask of backslashes (the block must not begin inside an
/// escape). In a run of backslashes, the 1st, 3rd, 5th… escape the next byte,
/// which is the next backslash of the run or, when the run's length is odd, the
/// byte after it. Subtracting the run from its own shifted copy, with odd bit
/// positions preset, leaves exactly those escaping/escaped bits at the run's
/// parity; one subtraction handles every run of the block at once.
pub(super) fn escapes(backslash: u64) -> (u64, u64) {
    const ODD_BITS: u64 = 0xaaaa_aaaa_aaaa_aaaa;
    let codes = ((backslash << 1 | ODD_BITS).wrapping_sub(backslash)) ^ ODD_BITS;
    (codes & backslash, codes ^ backslash)
}

/// Bit masks of one block: bit `n` is byte `n`.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct Masks {
    pub quote: u64,
    pub backslash: u64,
    /// Bytes below 0x20, which JSON strings may not hold raw.
    pub control: u64,
}

/// Which bytes of a block may follow a backslash (bit `n` is byte `n`): on their
/// own (`"\\/bfnrt`), and `u`, which four hex digits must follow.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct EscapeClasses {
    pub simple: u64,
    pub unicode: u64,
}

/// How a block's masks are computed. The string loop is compiled once per
/// kernel, so with [`Avx2`] the mask functions inline into it. (Measured on 10
/// MiB: the relay benchmark's escape-dense result checked in 1.6 ms instead of
/// 2.1, plain text in 0.57 instead of 0.96, when each block called out twice and
/// asked twice whether the CPU has AVX2.)
pub(super) trait Kernel: Copy {
    fn masks(self, block: &[u8; BLOCK]) -> Masks;
    fn escape_classes(self, block: &[u8; BLOCK]) -> EscapeClasses;
    /// The hex digits of a block (only asked for when it holds `\u` escapes).
    fn hex_digits(self, block: &[u8; BLOCK]) -> u64;
}

/// SSE2 lanes on x86_64 (its baseline), eight bytes per word elsewhere.
#[derive(Clone, Copy)]
pub(super) struct Portable;

impl Kernel for Portable {
    #[inline(always)]
    fn masks(self, block: &[u8; BLOCK]) -> Masks {
        Masks::by_lanes(block)
    }

    #[inline(always)]
    fn escape_classes(self, block: &[u8; BLOCK]) -> EscapeClasses {
        escape_classes_portable(block)
    }

    #[inline(always)]
    fn hex_digits(self, block: &[u8; BLOCK]) -> u64 {
        hex_digits_portable(block)
    }
}

/// Proof that the CPU has AVX2: only [`Avx2::detect`] makes one.
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
pub(super) struct Avx2(());

#[cfg(target_arch = "x86_64")]
impl Avx2 {
    pub(super) fn detect() -> Option<Self> {
        std::arch::is_x86_feature_detected!("avx2").then_some(Self(()))
    }
}

#[cfg(target_arch = "x86_64")]
impl Kernel for Avx2 {
    #[inline(always)]
    fn masks(self, block: &[u8; BLOCK]) -> Masks {
        // SAFETY: an `Avx2` exists only where the CPU has AVX2.
        unsafe { Masks::avx2(block) }
    }

    #[inline(always)]
    fn escape_classes(self, block: &[u8; BLOCK]) -> EscapeClasses {
        // SAFETY: as above.
        unsafe { escape_classes_avx2(block) }
    }

    #[inline(always)]
    fn hex_digits(self, block: &[u8; BLOCK]) -> u64 {
        // SAFETY: as above.
        unsafe { hex_digits_avx2(block) }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn escape_classes_avx2(block: &[u8; BLOCK]) -> EscapeClasses {
    use std::arch::x86_64::{
        __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_movemask_epi8, _mm256_or_si256,
        _mm256_set1_epi8, _mm256_setzero_si256,
    };
    let mut classes = EscapeClasses {
        simple: 0,
        unicode: 0,
    };
    for (n, bytes) in block.chunks_exact(32).enumerate() {
        // SAFETY: `bytes` is 32 readable bytes; the unaligned load has no
        // alignment requirement.
        let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) };
        let bits = |m| u64::from(_mm256_movemask_epi8(m) as u32) << (32 * n);
        let mut simple = _mm256_setzero_si256();
        for escape in SIMPLE_ESCAPES {
            simple = _mm256_or_si256(simple, _mm256_cmpeq_epi8(v, _mm256_set1_epi8(escape as i8)));
        }
        classes.simple |= bits(simple);
        classes.unicode |= bits(_mm256_cmpeq_epi8(v, _mm256_set1_epi8(b'u' as i8)));
    }
    classes
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn hex_digits_avx2(block: &[u8; BLOCK]) -> u64 {
    use std::arch::x86_64::{
        __m256i, _mm256_and_si256, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8,
        _mm256_min_epu8, _mm256_movemask_epi8, _mm256_or_si256, _mm256_set1_epi8,
    };
    let splat = |byte: u8| _mm256_set1_epi8(byte as i8);
    // lo <= v <= hi, unsigned.
    let within = |v, lo: u8, hi: u8| {
        _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_max_epu8(v, splat(lo)), v),
            _mm256_cmpeq_epi8(_mm256_min_epu8(v, splat(hi)), v),
        )
    };
    let mut mask = 0u64;
    for (n, bytes) in block.chunks_exact(32).enumerate() {
        // SAFETY: `bytes` is 32 readable bytes; the unaligned load has no
        // alignment requirement.
        let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) };
        let letters = within(_mm256_or_si256(v, splat(0x20)), b'a', b'f');
        let digits = _mm256_or_si256(within(v, b'0', b'9'), letters);
        mask |= u64::from(_mm256_movemask_epi8(digits) as u32) << (32 * n);
    }
    mask
}

fn mask_of(block: &[u8; BLOCK], pick: impl Fn(u8) -> bool) -> u64 {
    block
        .iter()
        .enumerate()
        .fold(0, |mask, (n, &byte)| mask | u64::from(pick(byte)) << n)
}

fn escape_classes_portable(block: &[u8; BLOCK]) -> EscapeClasses {
    EscapeClasses {
        simple: mask_of(block, |byte| SIMPLE_ESCAPES.contains(&byte)),
        unicode: mask_of(block, |byte| byte == b'u'),
    }
}

fn hex_digits_portable(block: &[u8; BLOCK]) -> u64 {
    mask_of(block, |byte| byte.is_ascii_hexdigit())
}

/// The masks of 16 bytes: quote, backslash, control.
type Lane = [u16; 3];

impl Masks {
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn avx2(block: &[u8; BLOCK]) -> Masks {
        use std::arch::x86_64::{
            __m256i, _mm256_cmpeq_epi8, _mm256_loadu_si256, _mm256_max_epu8, _mm256_movemask_epi8,
            _mm256_set1_epi8,
        };
        let quote = _mm256_set1_epi8(b'"' as i8);
        let backslash = _mm256_set1_epi8(b'\\' as i8);
        let below_space = _mm256_set1_epi8(0x1f);
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            control: 0,
        };
        for (n, bytes) in block.chunks_exact(32).enumerate() {
            // SAFETY: `bytes` is 32 readable bytes; the unaligned load has no
            // alignment requirement.
            let v = unsafe { _mm256_loadu_si256(bytes.as_ptr().cast::<__m256i>()) };
            let bits = |m| u64::from(_mm256_movemask_epi8(m) as u32) << (32 * n);
            masks.quote |= bits(_mm256_cmpeq_epi8(v, quote));
            masks.backslash |= bits(_mm256_cmpeq_epi8(v, backslash));
            masks.control |= bits(_mm256_cmpeq_epi8(
                _mm256_max_epu8(v, below_space),
                below_space,
            ));
        }
        masks
    }

    fn by_lanes(block: &[u8; BLOCK]) -> Masks {
        let mut masks = Masks {
            quote: 0,
            backslash: 0,
            control: 0,
        };
        for (n, bytes) in block.chunks_exact(16).enumerate() {
            let [quote, backslash, control] = lane(bytes.try_into().expect("16 bytes"));
            let shift = 16 * n;
            masks.quote |= u64::from(quote) << shift;
            masks.backslash |= u64::from(backslash) << shift;
            masks.control |= u64::from(control) << shift;
        }
        masks
    }

    /// The index of the first quote, backslash or control byte among 16 (16
    /// when there is none).
    #[inline]
    pub(super) fn first_special(bytes: &[u8; 16]) -> usize {
        let [quote, backslash, control] = lane(bytes);
        (quote | backslash | control).trailing_zeros() as usize
    }
}

#[cfg(target_arch = "x86_64")]
#[inline]
fn lane(bytes: &[u8; 16]) -> Lane {
    // SAFETY: SSE2 is part of the x86_64 baseline, so the target feature is
    // always present.
    unsafe { lane_sse2(bytes) }
}

#[cfg(not(target_arch = "x86_64"))]
#[inline]
fn lane(bytes: &[u8; 16]) -> Lane {
    lane_swar(bytes)
}

/// One compare per mask for all 16 bytes. (On the 10 MiB benchmark result: 0.5
/// ms for the masks, against 2 ms for the portable version.)
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "sse2")]
fn lane_sse2(bytes: &[u8; 16]) -> Lane {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_max_epu8, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: `bytes` is 16 readable bytes; the unaligned load has no alignment
    // requirement.
    let v = unsafe { _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>()) };
    let below_space = _mm_set1_epi8(0x1f);
    let bits = |m| _mm_movemask_epi8(m) as u16;
    [
        bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8))),
        bits(_mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8))),
        // max(v, 0x1f) == 0x1f exactly when v <= 0x1f (unsigned).
        bits(_mm_cmpeq_epi8(_mm_max_epu8(v, below_space), below_space)),
    ]
}

/// Eight bytes per word, portable.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
fn lane_swar(bytes: &[u8; 16]) -> Lane {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const ONES: u64 = 0x0101_0101_0101_0101;
    // 0x80 in every byte of `v` that is zero, exactly (no borrow between bytes).
    let zero_bytes = |v: u64| !(((v & LOW7) + LOW7) | v | LOW7);
    // The high bit of each byte, gathered into the low 8 bits.
    let gather = |high: u64| ((high >> 7).wrapping_mul(0x0102_0408_1020_4080) >> 56) as u16;
    let mut lane = [0u16; 3];
    for (n, word) in bytes.chunks_exact(8).enumerate() {
        let word = u64::from_le_bytes(word.try_into().expect("8 bytes"));
        let shift = 8 * n;
        lane[0] |= gather(zero_bytes(word ^ (ONES * u64::from(b'"')))) << shift;
        lane[1] |= gather(zero_bytes(word ^ (ONES * u64::from(b'\\')))) << shift;
        lane[2] |= gather(zero_bytes(word & (ONES * 0xe0))) << shift;
    }
    lane
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Backslash runs read byte by byte.
    fn escapes_by_hand(backslash: u64) -> (u64, u64) {
        let (mut escaping, mut escaped) = (0u64, 0u64);
        let mut bit = 0;
        while bit < 64 {
            if backslash >> bit & 1 == 1 {
                escaping |= 1 << bit;
                if bit < 63 {
                    escaped |= 1 << (bit + 1);
                }
                bit += 2;
            } else {
                bit += 1;
            }
        }
        (escaping, escaped)
    }

    fn by_hand(block: &[u8; BLOCK], pick: impl Fn(u8) -> bool) -> u64 {
        block
            .iter()
            .enumerate()
            .map(|(n, &byte)| u64::from(pick(byte)) << n)
            .sum()
    }

    fn check_block(block: &[u8; BLOCK]) -> Result<(), TestCaseError> {
        let expected = Masks {
            quote: by_hand(block, |b| b == b'"'),
            backslash: by_hand(block, |b| b == b'\\'),
            control: by_hand(block, |b| b < 0x20),
        };
        prop_assert_eq!(Portable.masks(block), expected);
        for bytes in block.chunks_exact(16) {
            let bytes: &[u8; 16] = bytes.try_into().unwrap();
            prop_assert_eq!(lane(bytes), lane_swar(bytes));
        }
        let expected = EscapeClasses {
            simple: by_hand(block, |b| SIMPLE_ESCAPES.contains(&b)),
            unicode: by_hand(block, |b| b == b'u'),
        };
        prop_assert_eq!(Portable.escape_classes(block), expected);
        let hex = by_hand(block, |b| b.is_ascii_hexdigit());
        prop_assert_eq!(Portable.hex_digits(block), hex);
        #[cfg(target_arch = "x86_64")]
        {
            let avx2 = Avx2::detect()
                .expect("these tests need an x86_64 CPU with AVX2 (every x86_64 CI runner has it)");
            prop_assert_eq!(avx2.masks(block), Portable.masks(block));
            prop_assert_eq!(avx2.escape_classes(block), Portable.escape_classes(block));
            prop_assert_eq!(avx2.hex_digits(block), hex);
        }
        Ok(())
    }

    #[test]
    fn every_special_byte_in_every_position() {
        let mut block = [0u8; BLOCK];
        for (n, byte) in block.iter_mut().enumerate() {
            *byte = [
                b'"', b'\\', 0, 0x1f, 0x20, b'n', b'u', 0x80, 0xff, b'0', b'9', b'a', b'f', b'A',
                b'F', b'g', b'G', b'/', b'@', b'`',
            ][n % 20];
        }
        check_block(&block).unwrap();
    }

    proptest! {
        #[test]
        fn escape_runs(backslash in any::<u64>()) {
            prop_assert_eq!(escapes(backslash), escapes_by_hand(backslash));
        }

        #[test]
        fn masks_match_a_byte_by_byte_reading(
            low in prop::array::uniform32(any::<u8>()),
            high in prop::array::uniform32(any::<u8>()),
        ) {
            let mut block = [0u8; BLOCK];
            block[..32].copy_from_slice(&low);
            block[32..].copy_from_slice(&high);
            check_block(&block)?;
        }
    }
}
