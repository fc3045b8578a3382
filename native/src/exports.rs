//! The functions exported to JavaScript. Each one converts its arguments, calls into a pure
//! Rust module (`md5`, `zlib`, `numeric`) and converts the result. See `src/native/index.ts`
//! for the typed JS view of these exports.

use crate::ffi::*;
use crate::js::{self, JsError, JsResult};
use crate::{inflate, md5, numeric, outbuf, zlib};
use std::os::raw::c_void;
use std::ptr;

// --- MD5 --------------------------------------------------------------------------------

/// `md5(data) → Buffer(16)`
pub unsafe extern "C" fn md5_oneshot(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let data = js::bytes(env, c.arg(0), "data")?;
        js::buffer_copy(env, &md5::digest(data))
    })
}

/// `md5Many(buffers[]) → Buffer(16 × n)`: digests computed in parallel.
pub unsafe extern "C" fn md5_many(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let items = js::array_elements(env, c.arg(0), "buffers")?;
        let mut views = Vec::with_capacity(items.len());
        for (i, v) in items.into_iter().enumerate() {
            views.push(js::bytes(env, v, &format!("buffers[{i}]"))?);
        }
        js::buffer_copy(env, &md5::digest_many(&views))
    })
}

unsafe extern "C" fn md5_finalize(_env: napi_env, data: *mut c_void, _hint: *mut c_void) {
    drop(Box::from_raw(data as *mut md5::Streaming));
}

unsafe fn md5_this<'a>(env: napi_env, this: napi_value) -> JsResult<&'a mut md5::Streaming> {
    let mut p: *mut c_void = ptr::null_mut();
    let st = napi_unwrap(env, this, &mut p);
    if st != NAPI_OK || p.is_null() {
        return Err(js::type_error("Md5 method called on an object that is not an Md5"));
    }
    Ok(&mut *(p as *mut md5::Streaming))
}

/// `new Md5()`
pub unsafe extern "C" fn md5_new(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let state = Box::into_raw(Box::new(md5::Streaming::new()));
        let st = napi_wrap(env, c.this, state as *mut c_void, Some(md5_finalize), ptr::null_mut(), ptr::null_mut());
        if st != NAPI_OK {
            drop(Box::from_raw(state));
            js::check(env, st, "napi_wrap (was Md5 called without new?)")?;
        }
        Ok(c.this)
    })
}

/// `md5.update(data) → this`
pub unsafe extern "C" fn md5_update(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let state = md5_this(env, c.this)?;
        let data = js::bytes(env, c.arg(0), "data")?;
        if !state.update(data) {
            return Err(JsError::Error { code: "ERR_CRYPTO_HASH_FINALIZED", msg: "Digest already called".into() });
        }
        Ok(c.this)
    })
}

/// `md5.digest() → Buffer(16)` (once)
pub unsafe extern "C" fn md5_digest(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let state = md5_this(env, c.this)?;
        match state.finish() {
            Some(d) => js::buffer_copy(env, &d),
            None => Err(JsError::Error { code: "ERR_CRYPTO_HASH_FINALIZED", msg: "Digest already called".into() }),
        }
    })
}

// --- zlib -------------------------------------------------------------------------------

unsafe fn level_arg(c: &js::Call, i: usize, default: f64) -> JsResult<u8> {
    let level = js::index(c.env, c.arg(i), "level", Some(default))?;
    if level > 9 {
        return Err(js::range_error(format!("level must be 0..9, got {level}")));
    }
    Ok(level as u8)
}

/// The stream written straight into a new (uninitialised) Node Buffer. The Buffer's memory
/// belongs to V8, so it is freed by garbage collection even inside a long synchronous loop;
/// an external buffer over a Rust Vec would be freed only when the event loop turns.
unsafe fn deflated(env: napi_env, enc: &zlib::Encoded) -> JsResult<napi_value> {
    let (value, out) = js::new_buffer(env, enc.len())?;
    enc.write_into(out);
    Ok(value)
}

/// `deflate(data, level = 6) → Buffer`: a zlib stream at exactly that miniz level (chunked
/// and parallel for large inputs).
pub unsafe extern "C" fn deflate(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let data = js::bytes(env, c.arg(0), "data")?;
        let level = level_arg(c, 1, 6.0)?;
        let enc = zlib::encode_parts(&[data], zlib::DeflateOptions { level, adaptive: false, limit: None })
            .expect("no limit");
        deflated(env, &enc)
    })
}

/// `deflateAdaptive(data | parts[], level = 2, limit?) → Buffer | null`: chunks that do not
/// compress are stored; `null` when the stream would not be shorter than `limit` bytes. An
/// array of views is compressed as their concatenation (without concatenating them).
pub unsafe extern "C" fn deflate_adaptive(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let mut is_array = false;
        if !c.arg(0).is_null() {
            js::check(env, napi_is_array(env, c.arg(0), &mut is_array), "napi_is_array")?;
        }
        let parts: Vec<&[u8]> = if is_array {
            let mut v = Vec::new();
            for (i, e) in js::array_elements(env, c.arg(0), "parts")?.into_iter().enumerate() {
                v.push(js::bytes(env, e, &format!("parts[{i}]"))?);
            }
            v
        } else {
            vec![js::bytes(env, c.arg(0), "data")?]
        };
        let level = level_arg(c, 1, 2.0)?;
        let limit = js::number(env, c.arg(2), "limit", Some(f64::INFINITY))?;
        let limit = if limit.is_finite() { Some(js::index(env, c.arg(2), "limit", None)?) } else { None };
        match zlib::encode_parts(&parts, zlib::DeflateOptions { level, adaptive: true, limit }) {
            Some(enc) => deflated(env, &enc),
            None => js::null(env),
        }
    })
}

/// `inflate(data, size, offset = 0) → Buffer | Uint8Array`: inflate a zlib stream that must
/// decompress to exactly `size` bytes, with nothing after it. The output buffer is allocated
/// at `size` but left uncommitted, and written (and pre-faulted) only as far as the stream
/// really produces output (`outbuf::Window`), so a corrupt `size` costs no memory. With
/// `offset > 0` the result is a Uint8Array that starts `offset` bytes into an ArrayBuffer
/// whose start is allocator-aligned (≥ 8 bytes), so callers can place a payload at a chosen
/// alignment; with 0 it is a Buffer.
pub unsafe extern "C" fn inflate(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let data = js::bytes(env, c.arg(0), "data")?;
        let size = js::index(env, c.arg(1), "size", None)?;
        let offset = js::index(env, c.arg(2), "offset", Some(0.0))?;
        if offset > 4096 {
            return Err(js::range_error("offset must be at most 4096"));
        }
        // Refuse sizes no stream of this length can reach: deflate expands at most ~1032:1.
        if size > data.len().saturating_mul(1040).saturating_add(64) {
            return Err(zlib_error(inflate::Error::SizeMismatch, size));
        }
        let (value, out) = js::new_uninit_bytes(env, size, offset).map_err(|e| match e {
            JsError::Pending => e,
            _ => JsError::Error { code: "DJ_ZLIB_NOMEM", msg: format!("cannot allocate {size} bytes for the inflated data") },
        })?;
        inflate::inflate_zlib_into(data, &mut outbuf::Window::new(out, data.len())).map_err(|e| zlib_error(e, size))?;
        Ok(value)
    })
}

fn zlib_error(e: inflate::Error, size: usize) -> JsError {
    match e {
        inflate::Error::SizeMismatch => JsError::Error {
            code: "DJ_ZLIB_SIZE",
            msg: format!("zlib stream does not inflate to the expected {size} bytes"),
        },
        inflate::Error::Truncated => JsError::Error { code: "DJ_ZLIB_DATA", msg: "truncated zlib stream".into() },
        inflate::Error::Corrupt(why) => JsError::Error { code: "DJ_ZLIB_DATA", msg: format!("corrupt zlib stream: {why}") },
    }
}

// --- numeric reordering -----------------------------------------------------------------

unsafe fn src_dst<'a>(c: &js::Call) -> JsResult<(&'a [u8], &'a mut [u8])> {
    let src = js::bytes(c.env, c.arg(0), "src")?;
    let dst = js::bytes_mut(c.env, c.arg(1), "dst")?;
    js::no_overlap(src, dst)?;
    if src.len() != dst.len() {
        return Err(js::range_error(format!("src has {} bytes but dst has {}", src.len(), dst.len())));
    }
    Ok((src, dst))
}

/// `reverseAxes(src, dst, shape, itemsize)`: C-ordered bytes of `shape` → F-ordered bytes.
pub unsafe extern "C" fn reverse_axes(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let (src, dst) = src_dst(c)?;
        let mut shape = Vec::new();
        for v in js::array_elements(env, c.arg(2), "shape")? {
            shape.push(js::index(env, v, "shape entry", None)?);
        }
        let size = js::index(env, c.arg(3), "itemsize", None)?;
        let count = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
        if size == 0 || count.and_then(|n| n.checked_mul(size)) != Some(src.len()) {
            return Err(js::range_error("shape × itemsize does not match the byte length"));
        }
        numeric::reverse_axes(src, dst, &shape, size);
        js::undefined(env)
    })
}

unsafe fn complex_args<'a>(c: &js::Call) -> JsResult<(&'a [u8], &'a mut [u8], usize)> {
    let (src, dst) = src_dst(c)?;
    let size = js::index(c.env, c.arg(2), "itemsize", None)?;
    if size == 0 || src.len() % (2 * size) != 0 {
        return Err(js::range_error("byte length is not a multiple of 2 × itemsize"));
    }
    Ok((src, dst, size))
}

/// `splitComplex(src, dst, itemsize)`: interleaved (re, im) pairs → real plane, imag plane.
pub unsafe extern "C" fn split_complex(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let (src, dst, size) = complex_args(c)?;
        numeric::split_complex(src, dst, size);
        js::undefined(env)
    })
}

/// `joinComplex(src, dst, itemsize)`: real plane, imag plane → interleaved pairs.
pub unsafe extern "C" fn join_complex(env: napi_env, info: napi_callback_info) -> napi_value {
    js::run(env, info, |c| {
        let (src, dst, size) = complex_args(c)?;
        numeric::join_complex(src, dst, size);
        js::undefined(env)
    })
}

// --- Md5 class ----------------------------------------------------------------------------

/// Define the `Md5` class on `exports`.
pub unsafe fn define_md5_class(env: napi_env, exports: napi_value) -> JsResult<()> {
    let method = |name: &'static std::ffi::CStr, f: unsafe extern "C" fn(napi_env, napi_callback_info) -> napi_value| {
        napi_property_descriptor {
            utf8name: name.as_ptr(),
            name: ptr::null_mut(),
            method: Some(f),
            getter: None,
            setter: None,
            value: ptr::null_mut(),
            attributes: NAPI_DEFAULT_METHOD,
            data: ptr::null_mut(),
        }
    };
    let props = [method(c"update", md5_update), method(c"digest", md5_digest)];
    let mut class = ptr::null_mut();
    js::check(
        env,
        napi_define_class(env, c"Md5".as_ptr(), NAPI_AUTO_LENGTH, Some(md5_new), ptr::null_mut(), props.len(), props.as_ptr(), &mut class),
        "napi_define_class",
    )?;
    js::set_named(env, exports, c"Md5", class)
}
