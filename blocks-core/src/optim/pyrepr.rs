//! Python's printing of the values in an optimizer's repr: floats as `repr(float)`
//! gives them (`0.001`, `1e-08`, `0.0`), booleans as `True`/`False`.

/// `repr(x)` of a Python float: the shortest digits that read back as `x`,
/// in positional form when the decimal exponent is in `-4..16`, otherwise in
/// exponent form with a signed two-digit exponent (`1e-08`, `1e+16`).
pub(crate) fn float(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf".into() } else { "-inf".into() };
    }
    // Rust's `{:e}` gives the shortest round-trip digits, like Python's repr.
    let scientific = format!("{:e}", x.abs());
    let (mantissa, exponent) = scientific.split_once('e').expect("{:e} always has an exponent");
    let exponent: i32 = exponent.parse().expect("{:e} gives an integer exponent");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let sign = if x.is_sign_negative() { "-" } else { "" };
    // Python's `decpt`: the value is 0.DIGITS times 10^decpt.
    let decpt = exponent + 1;
    let body = if x == 0.0 {
        "0.0".to_string()
    } else if decpt <= -4 || decpt > 16 {
        let (first, rest) = digits.split_at(1);
        let mantissa = if rest.is_empty() { first.to_string() } else { format!("{first}.{rest}") };
        let exp_sign = if exponent < 0 { '-' } else { '+' };
        format!("{mantissa}e{exp_sign}{:02}", exponent.abs())
    } else if decpt <= 0 {
        format!("0.{}{digits}", "0".repeat((-decpt) as usize))
    } else if decpt as usize >= digits.len() {
        format!("{digits}{}.0", "0".repeat(decpt as usize - digits.len()))
    } else {
        let (whole, fraction) = digits.split_at(decpt as usize);
        format!("{whole}.{fraction}")
    };
    format!("{sign}{body}")
}

/// A hyper-parameter whose PyTorch default is the integer `0`: printed `0`
/// when it is zero (the value a user who leaves it out sees), else as a float.
pub(crate) fn int_default_zero(x: f64) -> String {
    if x == 0.0 && x.is_sign_positive() { "0".into() } else { float(x) }
}

/// Python's `True` / `False`.
pub(crate) fn boolean(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// PyTorch's `Optimizer.__repr__`: the class name, then each group's
/// hyper-parameters, sorted by name, one per line, each group after a newline.
pub(crate) fn optimizer_groups(name: &str, groups: Vec<Vec<(&str, String)>>) -> String {
    let mut out = format!("{name} (");
    for (index, mut entries) in groups.into_iter().enumerate() {
        entries.sort_by(|a, b| a.0.cmp(b.0));
        out.push_str(&format!("\nParameter Group {index}\n"));
        for (key, value) in entries {
            out.push_str(&format!("    {key}: {value}\n"));
        }
    }
    out.push(')');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_python_repr() {
        // Expected strings are Python 3's repr of the same values.
        let cases = [
            (0.1, "0.1"),
            (0.001, "0.001"),
            (1e-3, "0.001"),
            (0.0001, "0.0001"),
            (1e-5, "1e-05"),
            (1e-8, "1e-08"),
            (1.5e-8, "1.5e-08"),
            (0.0, "0.0"),
            (-0.0, "-0.0"),
            (1.0, "1.0"),
            (0.999, "0.999"),
            (123.25, "123.25"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (2.5e17, "2.5e+17"),
            (-0.02, "-0.02"),
            (0.1 + 0.2, "0.30000000000000004"),
            (1e-300, "1e-300"),
            (f64::INFINITY, "inf"),
        ];
        for (value, expected) in cases {
            assert_eq!(float(value), expected, "repr({value:?})");
        }
    }

    #[test]
    fn integer_defaults_print_as_ints_when_zero() {
        assert_eq!(int_default_zero(0.0), "0");
        assert_eq!(int_default_zero(0.9), "0.9");
        assert_eq!(boolean(true), "True");
    }
}
