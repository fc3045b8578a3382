//! Link setup for the Node-API addon.
//!
//! The addon calls `napi_*` functions that the `node` executable provides; they are resolved
//! when Node loads the addon. ELF shared objects may have undefined symbols by default; the
//! macOS linker must be told to look them up at load time.
fn main() {
    println!("cargo:rerun-if-changed=native/build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os == "macos" || os == "ios" {
        println!("cargo:rustc-cdylib-link-arg=-undefined");
        println!("cargo:rustc-cdylib-link-arg=dynamic_lookup");
    }
}
