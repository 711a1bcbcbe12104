//! The UCI handwritten digits, embedded in the examples that train on them.

use std::error::Error;
use std::io::Read;

use blocks::Tensor;
use blocks::data::TensorDataset;

/// 1,797 8x8 images of digits, 65 integers a row: 64 pixels (0..16), then the label.
const DIGITS_CSV_GZ: &[u8] = include_bytes!("../data/digits.csv.gz");

/// Decompresses and parses the embedded CSV: pixels scaled to [0, 1], labels 0..9.
pub fn load_digits() -> Result<TensorDataset, Box<dyn Error>> {
    let mut csv_text = Vec::new();
    flate2::read::GzDecoder::new(DIGITS_CSV_GZ).read_to_end(&mut csv_text)?;
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv_text.as_slice());
    let (mut pixels, mut labels) = (Vec::new(), Vec::new());
    for (row, record) in reader.records().enumerate() {
        let record = record?;
        if record.len() != 65 {
            return Err(format!("digits row {row}: {} values, expected 65", record.len()).into());
        }
        for value in record.iter().take(64) {
            pixels.push(value.trim().parse::<f32>()? / 16.0);
        }
        labels.push(record[64].trim().parse::<usize>()?);
    }
    let inputs = Tensor::try_from_vec(pixels, [labels.len(), 64])?;
    Ok(TensorDataset::try_new(inputs, labels)?)
}
