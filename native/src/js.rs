//! Small safe(ish) layer over the raw N-API declarations in `ffi`: argument access, byte views
//! of typed arrays, buffer creation, and turning Rust errors (and panics) into JS exceptions.
//!
//! Nothing here keeps state between calls, so the addon works in any number of Node
//! environments (main thread and worker threads) at once.

use crate::ffi::*;
use std::ffi::CString;
use std::os::raw::c_void;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::ptr;

/// An exception to throw. `code` becomes the `code` property of the JS error.
#[derive(Debug)]
pub enum JsError {
    Type(String),
    Range(String),
    Error { code: &'static str, msg: String },
    /// A JS exception is already pending (an N-API call failed because of it): just return.
    Pending,
}

pub type JsResult<T> = Result<T, JsError>;

pub fn type_error(msg: impl Into<String>) -> JsError {
    JsError::Type(msg.into())
}

pub fn range_error(msg: impl Into<String>) -> JsError {
    JsError::Range(msg.into())
}

/// Check an N-API status.
pub fn check(env: napi_env, status: napi_status, what: &str) -> JsResult<()> {
    if status == NAPI_OK {
        return Ok(());
    }
    let mut pending = false;
    // SAFETY: env is the live environment of the current call.
    unsafe { napi_is_exception_pending(env, &mut pending) };
    if pending || status == NAPI_PENDING_EXCEPTION {
        Err(JsError::Pending)
    } else {
        Err(JsError::Error { code: "DJ_NAPI", msg: format!("{what} failed (napi_status {status})") })
    }
}

fn cstring(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).expect("no NUL left")
}

unsafe fn throw(env: napi_env, err: JsError) {
    match err {
        JsError::Pending => {}
        JsError::Type(m) => {
            let m = cstring(&m);
            napi_throw_type_error(env, c"ERR_INVALID_ARG_TYPE".as_ptr(), m.as_ptr());
        }
        JsError::Range(m) => {
            let m = cstring(&m);
            napi_throw_range_error(env, c"ERR_OUT_OF_RANGE".as_ptr(), m.as_ptr());
        }
        JsError::Error { code, msg } => {
            let c = cstring(code);
            let m = cstring(&msg);
            napi_throw_error(env, c.as_ptr(), m.as_ptr());
        }
    }
}

/// The arguments and `this` of a call.
pub struct Call {
    pub env: napi_env,
    pub this: napi_value,
    pub argv: [napi_value; 8],
    pub argc: usize,
}

impl Call {
    pub fn arg(&self, i: usize) -> napi_value {
        if i < self.argc.min(self.argv.len()) {
            self.argv[i]
        } else {
            ptr::null_mut()
        }
    }
}

/// Run the body of an exported function: fetch arguments, catch panics, throw errors.
/// Returns NULL (i.e. `undefined`) after throwing.
pub unsafe fn run(
    env: napi_env,
    info: napi_callback_info,
    body: impl FnOnce(&Call) -> JsResult<napi_value>,
) -> napi_value {
    let mut call = Call { env, this: ptr::null_mut(), argv: [ptr::null_mut(); 8], argc: 8 };
    let st = napi_get_cb_info(
        env,
        info,
        &mut call.argc,
        call.argv.as_mut_ptr(),
        &mut call.this,
        ptr::null_mut(),
    );
    let result = match check(env, st, "napi_get_cb_info") {
        Ok(()) => match catch_unwind(AssertUnwindSafe(|| body(&call))) {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| panic.downcast_ref::<&str>().copied())
                    .unwrap_or("unknown panic");
                Err(JsError::Error { code: "DJ_NATIVE_PANIC", msg: format!("native addon: {msg}") })
            }
        },
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => v,
        Err(e) => {
            throw(env, e);
            ptr::null_mut()
        }
    }
}

/// The bytes viewed by a TypedArray/Buffer, DataView or ArrayBuffer. The slice is valid for
/// the duration of the current native call (the JS thread is blocked and backing stores do
/// not move).
pub unsafe fn bytes<'a>(env: napi_env, v: napi_value, what: &str) -> JsResult<&'a [u8]> {
    let (p, len) = raw_bytes(env, v, what)?;
    Ok(if len == 0 { &[] } else { std::slice::from_raw_parts(p as *const u8, len) })
}

/// Mutable variant of [`bytes`]; the caller must make sure it does not overlap other views.
pub unsafe fn bytes_mut<'a>(env: napi_env, v: napi_value, what: &str) -> JsResult<&'a mut [u8]> {
    let (p, len) = raw_bytes(env, v, what)?;
    Ok(if len == 0 { &mut [] } else { std::slice::from_raw_parts_mut(p as *mut u8, len) })
}

/// Reject two views whose memory ranges overlap (an output must not alias an input).
pub fn no_overlap(a: &[u8], b: &[u8]) -> JsResult<()> {
    let (a0, a1) = (a.as_ptr() as usize, a.as_ptr() as usize + a.len());
    let (b0, b1) = (b.as_ptr() as usize, b.as_ptr() as usize + b.len());
    if a.is_empty() || b.is_empty() || a1 <= b0 || b1 <= a0 {
        Ok(())
    } else {
        Err(range_error("source and destination must not overlap"))
    }
}

unsafe fn raw_bytes(env: napi_env, v: napi_value, what: &str) -> JsResult<(*mut c_void, usize)> {
    if v.is_null() {
        return Err(type_error(format!("{what} must be a Buffer, TypedArray or ArrayBuffer")));
    }
    let mut is = false;
    check(env, napi_is_typedarray(env, v, &mut is), "napi_is_typedarray")?;
    if is {
        let mut kind = 0;
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        check(
            env,
            napi_get_typedarray_info(
                env,
                v,
                &mut kind,
                &mut len,
                &mut data,
                ptr::null_mut(),
                ptr::null_mut(),
            ),
            "napi_get_typedarray_info",
        )?;
        let elem = match kind {
            typed::INT8 | typed::UINT8 | typed::UINT8_CLAMPED => 1,
            typed::INT16 | typed::UINT16 => 2,
            typed::INT32 | typed::UINT32 | typed::FLOAT32 => 4,
            _ => 8,
        };
        return Ok((data, len * elem));
    }
    check(env, napi_is_dataview(env, v, &mut is), "napi_is_dataview")?;
    if is {
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        check(
            env,
            napi_get_dataview_info(env, v, &mut len, &mut data, ptr::null_mut(), ptr::null_mut()),
            "napi_get_dataview_info",
        )?;
        return Ok((data, len));
    }
    check(env, napi_is_arraybuffer(env, v, &mut is), "napi_is_arraybuffer")?;
    if is {
        let mut len = 0usize;
        let mut data = ptr::null_mut();
        check(env, napi_get_arraybuffer_info(env, v, &mut data, &mut len), "napi_get_arraybuffer_info")?;
        return Ok((data, len));
    }
    Err(type_error(format!("{what} must be a Buffer, TypedArray or ArrayBuffer")))
}

/// A number argument (`undefined` → `default`).
pub unsafe fn number(env: napi_env, v: napi_value, what: &str, default: Option<f64>) -> JsResult<f64> {
    if !v.is_null() {
        let mut t = 0;
        check(env, napi_typeof(env, v, &mut t), "napi_typeof")?;
        if t == valuetype::NUMBER {
            let mut x = 0.0;
            check(env, napi_get_value_double(env, v, &mut x), "napi_get_value_double")?;
            return Ok(x);
        }
        if t != valuetype::UNDEFINED {
            return Err(type_error(format!("{what} must be a number")));
        }
    }
    default.ok_or_else(|| type_error(format!("{what} must be a number")))
}

/// A non-negative integer argument that fits in `usize` (safe integers only).
pub unsafe fn index(env: napi_env, v: napi_value, what: &str, default: Option<f64>) -> JsResult<usize> {
    let x = number(env, v, what, default)?;
    if !(x >= 0.0 && x <= 9007199254740991.0 && x.fract() == 0.0) {
        return Err(range_error(format!("{what} must be a non-negative integer, got {x}")));
    }
    Ok(x as usize)
}

/// The elements of a JS array.
pub unsafe fn array_elements(env: napi_env, v: napi_value, what: &str) -> JsResult<Vec<napi_value>> {
    let mut is = false;
    if !v.is_null() {
        check(env, napi_is_array(env, v, &mut is), "napi_is_array")?;
    }
    if !is {
        return Err(type_error(format!("{what} must be an array")));
    }
    let mut n = 0u32;
    check(env, napi_get_array_length(env, v, &mut n), "napi_get_array_length")?;
    let mut out = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut e = ptr::null_mut();
        check(env, napi_get_element(env, v, i, &mut e), "napi_get_element")?;
        out.push(e);
    }
    Ok(out)
}

pub unsafe fn undefined(env: napi_env) -> JsResult<napi_value> {
    let mut v = ptr::null_mut();
    check(env, napi_get_undefined(env, &mut v), "napi_get_undefined")?;
    Ok(v)
}

pub unsafe fn null(env: napi_env) -> JsResult<napi_value> {
    let mut v = ptr::null_mut();
    check(env, napi_get_null(env, &mut v), "napi_get_null")?;
    Ok(v)
}

pub unsafe fn string(env: napi_env, s: &str) -> JsResult<napi_value> {
    let mut v = ptr::null_mut();
    check(
        env,
        napi_create_string_utf8(env, s.as_ptr() as *const _, s.len(), &mut v),
        "napi_create_string_utf8",
    )?;
    Ok(v)
}

/// A new Node Buffer holding a copy of `data`.
pub unsafe fn buffer_copy(env: napi_env, data: &[u8]) -> JsResult<napi_value> {
    let mut v = ptr::null_mut();
    check(
        env,
        napi_create_buffer_copy(env, data.len(), data.as_ptr() as *const c_void, ptr::null_mut(), &mut v),
        "napi_create_buffer_copy",
    )?;
    Ok(v)
}

unsafe extern "C" fn drop_vec(_env: napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Vec<u8>> leaked in `buffer_from_vec`. Dropping it needs no
    // N-API call, so this is fine from any finalizer context.
    drop(Box::from_raw(hint as *mut Vec<u8>));
}

/// A Node Buffer that takes ownership of `v` without copying (an external buffer whose
/// finalizer frees the Vec). Falls back to a copy where external buffers are not allowed
/// (e.g. runtimes with the V8 sandbox enabled).
pub unsafe fn buffer_from_vec(env: napi_env, mut v: Vec<u8>) -> JsResult<napi_value> {
    if v.len() < 4096 {
        return buffer_copy(env, &v);
    }
    if v.capacity() - v.len() > v.len() / 8 {
        v.shrink_to_fit();
    }
    let len = v.len();
    let data = v.as_mut_ptr() as *mut c_void;
    let boxed = Box::into_raw(Box::new(v));
    let mut out = ptr::null_mut();
    let st = napi_create_external_buffer(env, len, data, Some(drop_vec), boxed as *mut c_void, &mut out);
    if st == NAPI_OK {
        return Ok(out);
    }
    // Not created: the finalizer will never run, take the Vec back.
    let v = Box::from_raw(boxed);
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if pending {
        return Err(JsError::Pending);
    }
    buffer_copy(env, &v)
}

/// An ArrayBuffer that takes ownership of `v` without copying; `Err(v)` gives the Vec back
/// where external buffers are refused (e.g. runtimes with the V8 sandbox enabled).
unsafe fn external_arraybuffer(env: napi_env, mut v: Vec<u8>) -> JsResult<Result<napi_value, Vec<u8>>> {
    if v.capacity() - v.len() > v.len() / 8 {
        v.shrink_to_fit();
    }
    let len = v.len();
    let data = v.as_mut_ptr() as *mut c_void;
    let boxed = Box::into_raw(Box::new(v));
    let mut ab = ptr::null_mut();
    let st = napi_create_external_arraybuffer(env, data, len, Some(drop_vec), boxed as *mut c_void, &mut ab);
    if st == NAPI_OK {
        return Ok(Ok(ab));
    }
    // Not created: the finalizer will never run, take the Vec back.
    let v = *Box::from_raw(boxed);
    let mut pending = false;
    napi_is_exception_pending(env, &mut pending);
    if pending {
        return Err(JsError::Pending);
    }
    Ok(Err(v))
}

/// A Uint8Array over bytes `[offset, v.len())` of `v`, whose ArrayBuffer owns the whole Vec
/// (no copy, so the view keeps the alignment `offset` gave it). Small results, and runtimes
/// that refuse external buffers, get a copy in a fresh ArrayBuffer at the same offset.
pub unsafe fn uint8array_from_vec(env: napi_env, v: Vec<u8>, offset: usize) -> JsResult<napi_value> {
    let len = v.len() - offset;
    let v = if v.len() < 4096 { v } else {
        match external_arraybuffer(env, v)? {
            Ok(ab) => {
                let mut out = ptr::null_mut();
                check(env, napi_create_typedarray(env, typed::UINT8, len, ab, offset, &mut out), "napi_create_typedarray")?;
                return Ok(out);
            }
            Err(v) => v,
        }
    };
    let (value, out) = new_offset_bytes(env, len, offset)?;
    out.copy_from_slice(&v[offset..]);
    Ok(value)
}

/// A Uint8Array of `len` bytes that starts `offset` bytes into a fresh ArrayBuffer (whose
/// start is allocator-aligned), and a mutable view of it.
pub unsafe fn new_offset_bytes<'a>(
    env: napi_env,
    len: usize,
    offset: usize,
) -> JsResult<(napi_value, &'a mut [u8])> {
    let mut ab = ptr::null_mut();
    let mut data = ptr::null_mut();
    check(env, napi_create_arraybuffer(env, len + offset, &mut data, &mut ab), "napi_create_arraybuffer")?;
    let mut v = ptr::null_mut();
    check(
        env,
        napi_create_typedarray(env, typed::UINT8, len, ab, offset, &mut v),
        "napi_create_typedarray",
    )?;
    let s = if len == 0 {
        &mut [][..]
    } else {
        std::slice::from_raw_parts_mut((data as *mut u8).add(offset), len)
    };
    Ok((v, s))
}

pub unsafe fn set_named(env: napi_env, obj: napi_value, name: &std::ffi::CStr, v: napi_value) -> JsResult<()> {
    check(env, napi_set_named_property(env, obj, name.as_ptr(), v), "napi_set_named_property")
}

/// Define `exports[name] = function`.
pub unsafe fn export_fn(
    env: napi_env,
    exports: napi_value,
    name: &std::ffi::CStr,
    f: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value,
) -> JsResult<()> {
    let mut v = ptr::null_mut();
    check(
        env,
        napi_create_function(env, name.as_ptr(), NAPI_AUTO_LENGTH, Some(f), ptr::null_mut(), &mut v),
        "napi_create_function",
    )?;
    set_named(env, exports, name, v)
}
