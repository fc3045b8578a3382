//! DataJoint native addon: MD5, zlib and numeric-array reordering for the blob codec.
//!
//! Plain Node-API without the `napi` crates (see `ffi`). `napi_register_module_v1` is
//! called once per Node environment (main thread and each worker thread) and keeps no
//! global state, so the addon can be loaded by any number of environments at once.

mod inflate;
mod md5;
mod md5core;
mod mem;
mod numeric;
mod outbuf;
mod zlib;

#[cfg(not(test))]
mod exports;
#[cfg(not(test))]
mod ffi;
#[cfg(not(test))]
mod js;

#[cfg(not(test))]
mod register {
    use crate::exports::*;
    use crate::ffi::*;
    use crate::js::{self, JsResult};

    unsafe fn register(env: napi_env, exports: napi_value) -> JsResult<()> {
        js::export_fn(env, exports, c"md5", md5_oneshot)?;
        js::export_fn(env, exports, c"md5Many", md5_many)?;
        define_md5_class(env, exports)?;
        js::export_fn(env, exports, c"deflate", deflate)?;
        js::export_fn(env, exports, c"deflateAdaptive", deflate_adaptive)?;
        js::export_fn(env, exports, c"inflate", inflate)?;
        js::export_fn(env, exports, c"reverseAxes", reverse_axes)?;
        js::export_fn(env, exports, c"splitComplex", split_complex)?;
        js::export_fn(env, exports, c"joinComplex", join_complex)?;
        let version = js::string(env, env!("CARGO_PKG_VERSION"))?;
        js::set_named(env, exports, c"version", version)?;
        let md5_impl = js::string(env, "rust")?;
        js::set_named(env, exports, c"md5Impl", md5_impl)?;
        Ok(())
    }

    /// Entry point looked up by Node (`process.dlopen`) for Node-API addons.
    #[no_mangle]
    pub unsafe extern "C" fn napi_register_module_v1(env: napi_env, exports: napi_value) -> napi_value {
        match std::panic::catch_unwind(|| register(env, exports)) {
            Ok(Ok(())) => exports,
            Ok(Err(e)) => {
                if !matches!(e, js::JsError::Pending) {
                    napi_throw_error(env, std::ptr::null(), c"datajoint native addon: registration failed".as_ptr());
                }
                std::ptr::null_mut()
            }
            Err(_) => {
                napi_throw_error(env, std::ptr::null(), c"datajoint native addon: panic during registration".as_ptr());
                std::ptr::null_mut()
            }
        }
    }
}
