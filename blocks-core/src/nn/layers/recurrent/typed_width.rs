//! The compile-time check of a typed recurrent layer's output width: one
//! direction gives `H` features, two give `2H`, so `LSTM<8, 16, 32>::new()`
//! is a compile error ("`LSTM<8, 16, 32>`: one direction gives 16 output
//! features, not 32"), as described in [`size_check`](crate::nn::kinds::size_check).

use crate::nn::kinds::size_check::SizeMessage;

/// Why the layer `name` with sizes `<input, hidden, output>` does not give
/// `output` features in `directions` directions, in plain words, or `None`
/// when `directions · hidden == output`.
pub(crate) const fn output_width_message(
    name: &str,
    input: usize,
    hidden: usize,
    output: usize,
    directions: usize,
) -> Option<SizeMessage> {
    let gives = hidden.checked_mul(directions);
    if let Some(gives) = gives
        && gives == output
    {
        return None;
    }
    let message = SizeMessage::new().layer(name, &[input, hidden, output]);
    let message = if directions == 1 {
        message.text("one direction gives ").number(hidden)
    } else {
        let message = message.text("two directions give ");
        let message = match gives {
            Some(gives) => message.number(gives),
            None => message.text("more"),
        };
        message.text(" (2 × ").number(hidden).text(")")
    };
    Some(message.text(" output features, not ").number(output))
}

#[cfg(test)]
mod tests {
    use super::output_width_message;

    #[test]
    fn says_what_the_directions_give() {
        let message =
            |o, directions| output_width_message("GRU", 8, 16, o, directions).map(|m| m.as_str().to_string());
        assert_eq!(message(16, 1), None);
        assert_eq!(message(32, 2), None);
        assert_eq!(
            message(32, 1).unwrap(),
            "`GRU<8, 16, 32>`: one direction gives 16 output features, not 32"
        );
        assert_eq!(
            message(16, 2).unwrap(),
            "`GRU<8, 16, 16>`: two directions give 32 (2 × 16) output features, not 16"
        );
        let huge = output_width_message("RNN", 1, usize::MAX, 3, 2).unwrap();
        assert!(
            huge.as_str()
                .contains("two directions give more (2 × 18446744073709551615) output features, not 3")
        );
    }
}
