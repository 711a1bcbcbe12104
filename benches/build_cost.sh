#!/usr/bin/env bash
# What #[derive(Module)] and sequential! cost at compile time: two crates with
# the same 50 blocks, one using the macros and one with the same impls written
# by hand, each rebuilt after its dependencies are built; prints both times.
#
#   bash benches/build_cost.sh [blocks] [profile]    (defaults: 50 dev)
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
count="${1:-50}"
profile="${2:-dev}"
work="${TMPDIR:-/tmp}/blocks-build-cost"
rm -rf "$work" && mkdir -p "$work"

block_fields='    hidden: Linear<16, 32>,
    out: Linear<32, 16>,
    net: Sequential<(Linear<16, 16>, ReLU)>,'
forward_impl() { # $1 = struct name
  cat <<RS
impl Forward<Batch<16>> for $1 {
    type Output = Batch<16>;
    fn forward(&self, x: &Batch<16>) -> Batch<16> {
        self.net.forward(&self.out.forward(&self.hidden.forward(x).relu()))
    }
}
RS
}

make_crate() { # $1 = name, $2 = derived|manual
  local dir="$work/$1"
  mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
blocks = { path = "$root" }

[workspace]
TOML
  {
    echo 'use blocks::prelude::*;'
    [ "$2" = manual ] && echo 'use blocks::nn::{Visitor, fmt_module}; use std::any::Any; use std::fmt;'
    for i in $(seq 1 "$count"); do
      if [ "$2" = derived ]; then
        echo "#[derive(Module)]"
        echo "pub struct Block$i {"
        echo "$block_fields"
        echo "}"
        echo "pub fn block$i() -> Block$i { Block$i { hidden: Linear::new(), out: Linear::new(), net: sequential![Linear::new(), ReLU] } }"
      else
        echo "pub struct Block$i {"
        echo "$block_fields"
        echo "}"
        cat <<RS
impl Module for Block$i {
    fn type_name(&self) -> String { "Block$i".into() }
    fn visit<'m>(&'m self, visitor: &mut dyn Visitor<'m>) {
        visitor.child("hidden", &self.hidden);
        visitor.child("out", &self.out);
        visitor.child("net", &self.net);
    }
    fn as_any(&self) -> &dyn Any { self }
    fn as_dyn(&self) -> &dyn Module { self }
}
impl fmt::Display for Block$i {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { fmt_module(self, f) }
}
pub fn block$i() -> Block$i { Block$i { hidden: Linear::new(), out: Linear::new(), net: Sequential::new((Linear::new(), ReLU)) } }
RS
      fi
      forward_impl "Block$i"
    done
  } > "$dir/src/lib.rs"
}

make_crate derived_blocks derived
make_crate manual_blocks manual
flag=""; [ "$profile" = release ] && flag="--release"
for name in derived_blocks manual_blocks; do
  (cd "$work/$name" && CARGO_TARGET_DIR="$work/target" cargo build -q $flag)
done
for name in derived_blocks manual_blocks; do
  touch "$work/$name/src/lib.rs"
  start=$(date +%s.%N)
  (cd "$work/$name" && CARGO_TARGET_DIR="$work/target" cargo build -q $flag)
  end=$(date +%s.%N)
  printf '%s: %d blocks, %s lines, rebuilt in %.2f s (%s)\n' "$name" "$count" \
    "$(wc -l < "$work/$name/src/lib.rs")" "$(echo "$end - $start" | bc)" "$profile"
done
