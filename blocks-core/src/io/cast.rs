//! PyTorch's dtype casts on load: a tensor's little-endian bytes of any dtype
//! PyTorch's `Tensor.copy_` converts (floats, integers, bool) as values of a
//! float element type, with the rounding PyTorch does.
//!
//! - float16 and bfloat16 are read with the `half` crate and widen exactly;
//! - float64 into float32 rounds to nearest, ties to even (Rust's `as`, C's
//!   `static_cast<float>`, what `copy_` does);
//! - integers convert with one rounding to nearest (not through `f64` first,
//!   which would round twice for an int64 above 2^53);
//! - bool is 0 or 1.
//!
//! The 8-bit and smaller floats (F8_E4M3, F8_E5M2, F4, F6, ...) and complex
//! tensors are not converted: [`decode`] returns `None` and the caller names
//! the tensor in its error.

use half::{bf16, f16};
use safetensors::Dtype;

use crate::Element;

/// The values of a tensor stored as `dtype` in `data`, as `E`; `None` for a
/// dtype that is not converted. `data` holds whole elements (the
/// `safetensors` crate checked its length against the shape).
pub(super) fn decode<E: Element>(dtype: Dtype, data: &[u8]) -> Option<Vec<E>> {
    fn each<const N: usize, E>(data: &[u8], convert: impl Fn([u8; N]) -> E) -> Vec<E> {
        data.chunks_exact(N).map(|b| convert(b.try_into().expect("N bytes"))).collect()
    }
    let from_i64 = |v: i64| E::from_i64(v).expect("every integer converts to a float");
    let from_u64 = |v: u64| E::from_u64(v).expect("every integer converts to a float");
    Some(match dtype {
        Dtype::F64 => each(data, |b| E::of(f64::from_le_bytes(b))),
        Dtype::F32 => each(data, |b| E::of(f32::from_le_bytes(b).into())),
        Dtype::F16 => each(data, |b| E::of(f16::from_le_bytes(b).to_f64())),
        Dtype::BF16 => each(data, |b| E::of(bf16::from_le_bytes(b).to_f64())),
        Dtype::I64 => each(data, |b| from_i64(i64::from_le_bytes(b))),
        Dtype::I32 => each(data, |b| from_i64(i32::from_le_bytes(b).into())),
        Dtype::I16 => each(data, |b| from_i64(i16::from_le_bytes(b).into())),
        Dtype::I8 => each(data, |b| from_i64(i8::from_le_bytes(b).into())),
        Dtype::U64 => each(data, |b| from_u64(u64::from_le_bytes(b))),
        Dtype::U32 => each(data, |b| from_u64(u32::from_le_bytes(b).into())),
        Dtype::U16 => each(data, |b| from_u64(u16::from_le_bytes(b).into())),
        Dtype::U8 => data.iter().map(|&b| from_u64(b.into())).collect(),
        Dtype::BOOL => data.iter().map(|&b| if b != 0 { E::one() } else { E::zero() }).collect(),
        _ => return None,
    })
}

/// The values of an integer (or bool) tensor as `i64`; `None` for another
/// dtype or a U64 value above `i64::MAX`.
pub(super) fn decode_integers(dtype: Dtype, data: &[u8]) -> Option<Vec<i64>> {
    fn each<const N: usize>(data: &[u8], convert: impl Fn([u8; N]) -> i64) -> Vec<i64> {
        data.chunks_exact(N).map(|b| convert(b.try_into().expect("N bytes"))).collect()
    }
    Some(match dtype {
        Dtype::I64 => each(data, i64::from_le_bytes),
        Dtype::I32 => each(data, |b| i32::from_le_bytes(b).into()),
        Dtype::I16 => each(data, |b| i16::from_le_bytes(b).into()),
        Dtype::I8 => each(data, |b| i8::from_le_bytes(b).into()),
        Dtype::U64 => {
            let wide = data.chunks_exact(8).map(|b| u64::from_le_bytes(b.try_into().expect("8 bytes")));
            wide.map(|v| i64::try_from(v).ok()).collect::<Option<Vec<i64>>>()?
        }
        Dtype::U32 => each(data, |b| u32::from_le_bytes(b).into()),
        Dtype::U16 => each(data, |b| u16::from_le_bytes(b).into()),
        Dtype::U8 => data.iter().map(|&b| b.into()).collect(),
        Dtype::BOOL => data.iter().map(|&b| i64::from(b != 0)).collect(),
        _ => return None,
    })
}

/// Whether `dtype` holds whole numbers (or bool): what a state dict keeps
/// as an integer buffer (saved back as int64).
pub(crate) fn is_integer(dtype: Dtype) -> bool {
    matches!(
        dtype,
        Dtype::I64
            | Dtype::I32
            | Dtype::I16
            | Dtype::I8
            | Dtype::U64
            | Dtype::U32
            | Dtype::U16
            | Dtype::U8
            | Dtype::BOOL
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes<const N: usize>(values: impl IntoIterator<Item = [u8; N]>) -> Vec<u8> {
        values.into_iter().flatten().collect()
    }

    #[test]
    fn float64_rounds_to_nearest_even_into_float32() {
        let halfway_down = 1.0 + 2f64.powi(-24); // between 1 and 1 + 2^-23: ties to 1 (even)
        let halfway_up = 1.0 + 3.0 * 2f64.powi(-24); // between 1 + 2^-23 and 1 + 2^-22: ties to the even one
        let above = 1.0 + 2f64.powi(-24) + 2f64.powi(-40); // past halfway: up
        let data = bytes([halfway_down, halfway_up, above, 1e300, -1e-50].map(f64::to_le_bytes));
        let values: Vec<f32> = decode(Dtype::F64, &data).unwrap();
        let step = 2f32.powi(-23);
        assert_eq!(values, [1.0, 1.0 + 2.0 * step, 1.0 + step, f32::INFINITY, -0.0]);
        assert!(values[4].is_sign_negative());
    }

    #[test]
    fn half_and_bfloat16_widen_exactly() {
        // 0x3C01: 1 + 2^-10 in float16; 0x3F81: 1 + 2^-7 in bfloat16; 0x0001: the smallest subnormal.
        let half: Vec<f32> =
            decode(Dtype::F16, &bytes([0x3C01u16, 0x0001, 0xFC00].map(u16::to_le_bytes))).unwrap();
        assert_eq!(half, [1.0 + 2f32.powi(-10), 2f32.powi(-24), f32::NEG_INFINITY]);
        let brain: Vec<f64> = decode(Dtype::BF16, &bytes([0x3F81u16, 0xC2F7].map(u16::to_le_bytes))).unwrap();
        assert_eq!(brain, [1.0 + 2f64.powi(-7), -123.5]);
    }

    #[test]
    fn integers_round_once() {
        // 2^24 + 1 is halfway between two float32s: ties to even, 2^24.
        // 2^53 + 2^29 + 1 is just past halfway between float32s 2^53 and
        // 2^53 + 2^30: up. Through f64 it would round twice (to 2^53 + 2^29,
        // then tie to 2^53), which is not what PyTorch's cast gives.
        let big = (1i64 << 53) + (1 << 29) + 1;
        let data = bytes([(1i64 << 24) + 1, -3, big].map(i64::to_le_bytes));
        let values: Vec<f32> = decode(Dtype::I64, &data).unwrap();
        assert_eq!(values, [16_777_216.0, -3.0, ((1i64 << 53) + (1 << 30)) as f32]);
        let flags: Vec<f64> = decode(Dtype::BOOL, &[0, 1, 2]).unwrap();
        assert_eq!(flags, [0.0, 1.0, 1.0]);
        let bytes_u8: Vec<f32> = decode(Dtype::U8, &[255, 0]).unwrap();
        assert_eq!(bytes_u8, [255.0, 0.0]);
    }

    #[test]
    fn integer_buffers_read_every_integer_dtype() {
        assert_eq!(decode_integers(Dtype::I16, &bytes([(-7i16).to_le_bytes()])), Some(vec![-7]));
        assert_eq!(
            decode_integers(Dtype::U32, &bytes([u32::MAX.to_le_bytes()])),
            Some(vec![u32::MAX.into()])
        );
        assert_eq!(decode_integers(Dtype::BOOL, &[0, 3]), Some(vec![0, 1]));
        assert_eq!(decode_integers(Dtype::U64, &bytes([u64::MAX.to_le_bytes()])), None);
        assert_eq!(decode_integers(Dtype::F32, &[0; 4]), None);
    }

    #[test]
    fn eight_bit_floats_and_complex_are_not_converted() {
        assert!(decode::<f32>(Dtype::F8_E4M3, &[0]).is_none());
        assert!(decode::<f32>(Dtype::C64, &[0; 8]).is_none());
    }
}
