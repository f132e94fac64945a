//! On wasm32, a 64 KiB stack for the module instead of the linker's 1 MiB:
//! the machine recurses only through the tracker's wait-for graph (one frame
//! per served call on a path), and the page allocates the whole linear
//! memory up front (the wasm2js translation makes it one ArrayBuffer at load).
fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("wasm32") {
        println!("cargo:rustc-link-arg-cdylib=-zstack-size=65536");
    }
}
