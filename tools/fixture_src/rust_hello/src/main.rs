//! A std-only Rust bootstrap stand-in, built for the host's glibc.
fn main() {
    let arguments = std::env::args().count();
    println!("hello from rust, {arguments} arguments");
}
