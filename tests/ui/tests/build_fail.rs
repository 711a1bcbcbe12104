//! Compile errors that the compiler reports only when it generates code
//! (`cargo build`, `test`, `run`; `cargo check` stops before them): sizes in
//! a type that must divide or equal each other, checked by a constant the
//! layer's constructor evaluates. The pass case makes trybuild build these
//! cases instead of checking them; each failing case must fail with its
//! checked-in `.stderr` (regenerate with `TRYBUILD=overwrite cargo test -p
//! blocks-ui-tests --test build_fail`, then read them).

#[test]
fn ui_build() {
    let cases = trybuild::TestCases::new();
    cases.pass("build_cases/heads_divide_width.rs");
    cases.compile_fail("build_cases/*_not_*.rs");
}
