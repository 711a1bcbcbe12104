//! Compile errors in the user's terms, on the user's tokens: each case in
//! `tests/ui/cases/` must fail with the checked-in `.stderr`
//! (regenerate with `TRYBUILD=overwrite cargo test -p blocks-ui-tests`, then read them).

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("cases/*.rs");
}
