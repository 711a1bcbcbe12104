//! A panic from a user mistake names the user's line (`#[track_caller]` all
//! the way down), and its message names the op and both shapes.
//!
//! A panic hook records `std::panic::Location` for the panicking thread; each
//! case compares it with `line!()` written on the same line as the call.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Once;

use blocks_core::Tensor;
use blocks_core::nn::DynLinear;

thread_local! {
    static LAST_PANIC: RefCell<Option<(String, u32, String)>> = const { RefCell::new(None) };
    static CAPTURING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Where `f` panicked (file, line) and with which message.
fn panic_site(f: impl FnOnce()) -> (String, u32, String) {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !CAPTURING.get() {
                return default(info);
            }
            let location = info.location().expect("panics carry a location");
            let message =
                match (info.payload().downcast_ref::<String>(), info.payload().downcast_ref::<&str>()) {
                    (Some(message), _) => message.clone(),
                    (None, Some(message)) => message.to_string(),
                    (None, None) => String::new(),
                };
            LAST_PANIC.set(Some((location.file().to_string(), location.line(), message)));
        }));
    });
    LAST_PANIC.set(None);
    CAPTURING.set(true);
    let result = catch_unwind(AssertUnwindSafe(f));
    CAPTURING.set(false);
    result.expect_err("expected a panic");
    LAST_PANIC.take().expect("the hook saw the panic")
}

/// Asserts that the panic was at `line` of this file and that its message
/// contains every one of `parts`.
fn assert_site((file, line, message): (String, u32, String), expected_line: u32, parts: &[&str]) {
    assert!(file.ends_with("engine_caller_location.rs"), "panicked in {file}:{line}: {message}");
    assert_eq!(line, expected_line, "{message}");
    for part in parts {
        assert!(message.contains(part), "{message:?} does not name {part:?}");
    }
}

#[test]
fn shape_mismatches_panic_on_the_callers_line_naming_the_op_and_both_shapes() {
    let (a, b) = (Tensor::zeros([2, 3]), Tensor::zeros([4]));
    assert_site(panic_site(|| drop(&a + &b)), line!(), &["add", "[2, 3]", "[4]"]);
    assert_site(panic_site(|| drop(a.clone() - b.clone())), line!(), &["sub", "[2, 3]", "[4]"]);
    assert_site(panic_site(|| drop(&a * &b)), line!(), &["mul", "[2, 3]", "[4]"]);
    assert_site(panic_site(|| drop(&a / &b)), line!(), &["div", "[2, 3]", "[4]"]);
    let mut c = a.clone();
    assert_site(panic_site(|| c += &b), line!(), &["add_assign", "[2, 3]", "[4]"]);

    let (x, w) = (Tensor::zeros([2, 3]), Tensor::zeros([5, 4]));
    assert_site(panic_site(|| drop(x.linear(&w, None))), line!(), &["linear", "[2, 3]", "[5, 4]"]);
    assert_site(panic_site(|| drop(x.matmul(&w))), line!(), &["matmul", "[2, 3]", "[5, 4]"]);
    assert_site(panic_site(|| drop(x.reshape(&[4, -1]))), line!(), &["reshape", "[4, -1]", "[2, 3]"]);
    let layer = DynLinear::new(4, 1);
    assert_site(panic_site(|| drop(layer.forward(&x))), line!(), &["4 input features", "[2, 3]"]);
}

#[test]
fn other_user_mistakes_panic_on_the_callers_line() {
    let (x, z, five) = (Tensor::zeros([2, 3]), Tensor::zeros([3]), vec![1.0; 5]);
    assert_site(panic_site(|| drop(Tensor::from_vec(five, [2, 3]))), line!(), &["from_vec", "[2, 3]"]);
    assert_site(panic_site(|| _ = x.item()), line!(), &["item"]);
    assert_site(panic_site(|| drop(x.sum_dim(&[2], false))), line!(), &["sum", "Dimension out of range"]);
    assert_site(panic_site(|| drop(x.select(0, 5))), line!(), &["select"]);
    assert_site(panic_site(|| drop(x.transpose(0, 3))), line!(), &["transpose", "[2, 3]"]);
    assert_site(panic_site(|| drop(Tensor::cat(&[&x, &z], 0))), line!(), &["cat", "[2, 3]", "[3]"]);
    assert_site(panic_site(|| x.set_data(&z)), line!(), &["set_data", "[3]", "[2, 3]"]);
    assert_site(panic_site(|| drop(Tensor::zeros([1 << 32, 1 << 32]))), line!(), &["zeros", "too large"]);
    let y = (&Tensor::ones([2]).requires_grad_(true) * 2.0).sum();
    y.backward();
    assert_site(panic_site(|| y.backward()), line!(), &["backward through the graph a second time"]);
}
