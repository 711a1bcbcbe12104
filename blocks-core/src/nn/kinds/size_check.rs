//! Compile-time checks of sizes in a layer's type that the trait system
//! cannot express (`96 % 5 == 0`, `O == 2H`): a constant the layer's
//! constructor evaluates, which fails when the compiler generates code for
//! that constructor (`cargo build`, `test`, `run`; `cargo check` stops
//! before it), with a message naming the layer and its sizes in plain words
//! ("`MultiheadAttention<96, 5>`: 96 is not divisible by 5 heads").
//! The compiler reports it at the user's call of the constructor ("the above
//! error was encountered while instantiating `fn ...::new`").
//!
//! [`SizeMessage`] writes that message in a `const fn`, where `format!`
//! cannot run; the layer's constant panics with it in its own body, so that
//! the compiler shows that one line:
//!
//! ```ignore
//! const DIVIDES: () = if let Some(message) = &groups_message(GROUPS, C) {
//!     panic!("{}", message.as_str())
//! };
//! ```

/// A message of up to 160 bytes, written in a `const fn` from text and
/// numbers.
pub(crate) struct SizeMessage {
    bytes: [u8; 160],
    len: usize,
}

impl SizeMessage {
    /// An empty message.
    pub(crate) const fn new() -> Self {
        SizeMessage { bytes: [0; 160], len: 0 }
    }

    /// The message with `text` appended (cut at 160 bytes).
    pub(crate) const fn text(mut self, text: &str) -> Self {
        let text = text.as_bytes();
        let mut i = 0;
        while i < text.len() && self.len < self.bytes.len() {
            self.bytes[self.len] = text[i];
            self.len += 1;
            i += 1;
        }
        self
    }

    /// The message with `n` appended in decimal.
    pub(crate) const fn number(mut self, n: usize) -> Self {
        let mut digits = [0u8; 20];
        let (mut count, mut rest) = (0, n);
        loop {
            digits[count] = b'0' + (rest % 10) as u8;
            count += 1;
            rest /= 10;
            if rest == 0 {
                break;
            }
        }
        while count > 0 && self.len < self.bytes.len() {
            count -= 1;
            self.bytes[self.len] = digits[count];
            self.len += 1;
        }
        self
    }

    /// The layer's name with its sizes, in backquotes: `` `GroupNorm<4, 6>` ``.
    pub(crate) const fn layer(self, name: &str, sizes: &[usize]) -> Self {
        let mut message = self.text("`").text(name).text("<");
        let mut i = 0;
        while i < sizes.len() {
            if i > 0 {
                message = message.text(", ");
            }
            message = message.number(sizes[i]);
            i += 1;
        }
        message.text(">`: ")
    }

    /// The message as text.
    pub(crate) const fn as_str(&self) -> &str {
        // Only whole ASCII texts and digits are written, so the bytes are UTF-8
        // unless a text was cut inside a character.
        match core::str::from_utf8(self.bytes.split_at(self.len).0) {
            Ok(message) => message,
            Err(_) => "a size in the layer's type does not fit the others",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SizeMessage;

    fn written(message: SizeMessage) -> String {
        String::from_utf8(message.bytes[..message.len].to_vec()).unwrap()
    }

    #[test]
    fn writes_the_layer_its_sizes_and_numbers() {
        let message =
            SizeMessage::new().layer("GRU", &[8, 16, 16]).number(0).text(" and ").number(usize::MAX);
        assert_eq!(written(message), "`GRU<8, 16, 16>`: 0 and 18446744073709551615");
    }

    #[test]
    fn a_long_message_is_cut_at_its_capacity() {
        let mut message = SizeMessage::new();
        for _ in 0..100 {
            message = message.text("ab").number(7);
        }
        assert_eq!(message.len, 160);
        assert!(written(message).starts_with("ab7ab7"));
    }

    #[test]
    fn reads_as_text() {
        let message = SizeMessage::new().layer("LSTM", &[8, 16, 32]).text("one direction gives ").number(16);
        assert_eq!(message.as_str(), "`LSTM<8, 16, 32>`: one direction gives 16");
    }
}
