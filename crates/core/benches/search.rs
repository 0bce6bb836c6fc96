//! Placeholder while the speed bench is written.
fn main() {}
