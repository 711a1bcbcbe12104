use blocks::prelude::*;

fn main() {
    let _net = sequential![];
}
