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

/// A new, uninitialised Node Buffer of `len` bytes and a mutable view of it.
pub unsafe fn new_buffer<'a>(env: napi_env, len: usize) -> JsResult<(napi_value, &'a mut [u8])> {
    let mut v = ptr::null_mut();
    let mut data = ptr::null_mut();
    check(env, napi_create_buffer(env, len, &mut data, &mut v), "napi_create_buffer")?;
    let s = if len == 0 { &mut [][..] } else { std::slice::from_raw_parts_mut(data as *mut u8, len) };
    Ok((v, s))
}

/// `len` uninitialised bytes, `offset` bytes into an ArrayBuffer of their own (whose start is
/// allocator-aligned; the `offset` leading bytes are zeroed), and a mutable view of them: a
/// Buffer when `offset` is 0, else a Uint8Array. Uninitialised memory this large is mapped
/// lazily by the OS, so bytes never written cost no memory (a zero-filled ArrayBuffer
/// would touch every page). A failed allocation leaves no JS exception pending.
pub unsafe fn new_uninit_bytes<'a>(env: napi_env, len: usize, offset: usize) -> JsResult<(napi_value, &'a mut [u8])> {
    let total = len.checked_add(offset).ok_or_else(|| range_error("length too large"))?;
    let (buf, bytes) = new_buffer(env, total).map_err(|e| {
        let mut exc = ptr::null_mut();
        napi_get_and_clear_last_exception(env, &mut exc);
        match e {
            JsError::Pending => JsError::Error { code: "DJ_NAPI", msg: "napi_create_buffer failed".into() },
            other => other,
        }
    })?;
    if offset == 0 {
        return Ok((buf, bytes));
    }
    bytes[..offset].fill(0);
    let mut ab = ptr::null_mut();
    check(
        env,
        napi_get_typedarray_info(env, buf, ptr::null_mut(), ptr::null_mut(), ptr::null_mut(), &mut ab, ptr::null_mut()),
        "napi_get_typedarray_info",
    )?;
    let mut v = ptr::null_mut();
    check(env, napi_create_typedarray(env, typed::UINT8, len, ab, offset, &mut v), "napi_create_typedarray")?;
    Ok((v, &mut bytes[offset..]))
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
