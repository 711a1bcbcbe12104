// `.to_f64()` on a derived block that is not generic over its element type:
// its fields' types are fixed, so there is no float64 form to build. The
// error says so on the call and says how to make one.
use blocks::prelude::*;

#[derive(Module)]
struct Net {
    hidden: Linear<4, 8>,
    out: Linear<8, 1>,
}

fn main() {
    let net = Net { hidden: Linear::new(), out: Linear::new() };
    let _double = net.to_f64();
}
