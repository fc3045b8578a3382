//! Element reordering for numeric array payloads of the blob format.
//!
//! Copying a Fortran-ordered typed array into a blob is a plain `memcpy` that JavaScript
//! already does at memory speed, so the addon does not do it. What is slow in JavaScript is
//! reordering elements: a C-ordered (row-major) n-d array must be written in F order, and
//! complex arrays are stored as a plane of real parts followed by a plane of imaginary parts
//! while `NDArray` keeps them interleaved. Those two operations live here.

/// Largest itemsize handled by the element-copy fast paths.
fn copy_elem(dst: &mut [u8], di: usize, src: &[u8], si: usize, size: usize) {
    dst[di * size..di * size + size].copy_from_slice(&src[si * size..si * size + size]);
}

/// Blocked out-of-place transpose of a `rows × cols` row-major matrix of `size`-byte elements
/// into its `cols × rows` row-major transpose.
pub fn transpose(src: &[u8], dst: &mut [u8], rows: usize, cols: usize, size: usize) {
    assert_eq!(src.len(), rows * cols * size);
    assert_eq!(dst.len(), src.len());
    match size {
        1 => transpose_typed::<u8>(src, dst, rows, cols),
        2 => transpose_typed::<[u8; 2]>(src, dst, rows, cols),
        4 => transpose_typed::<[u8; 4]>(src, dst, rows, cols),
        8 => transpose_typed::<[u8; 8]>(src, dst, rows, cols),
        16 => transpose_typed::<[u8; 16]>(src, dst, rows, cols),
        _ => {
            const B: usize = 16;
            for r0 in (0..rows).step_by(B) {
                for c0 in (0..cols).step_by(B) {
                    for r in r0..(r0 + B).min(rows) {
                        for c in c0..(c0 + B).min(cols) {
                            copy_elem(dst, c * rows + r, src, r * cols + c, size);
                        }
                    }
                }
            }
        }
    }
}

fn transpose_typed<T: Copy>(src: &[u8], dst: &mut [u8], rows: usize, cols: usize) {
    let n = rows * cols;
    // SAFETY: T is a plain byte array (alignment 1) and the lengths were checked by the caller.
    let s: &[T] = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const T, n) };
    let d: &mut [T] = unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr() as *mut T, n) };
    if rows == 1 || cols == 1 {
        d.copy_from_slice(s);
        return;
    }
    // Square tiles: a tile of the source and of the destination stay in L1, and each tile
    // row spans whole cache lines for the common element sizes.
    let b = (128 / std::mem::size_of::<T>()).clamp(16, 64);
    for r0 in (0..rows).step_by(b) {
        let r1 = (r0 + b).min(rows);
        for c0 in (0..cols).step_by(b) {
            let c1 = (c0 + b).min(cols);
            for c in c0..c1 {
                // SAFETY: r < rows and c < cols, so both indices are < rows * cols = n.
                unsafe {
                    let drow = d.as_mut_ptr().add(c * rows);
                    for r in r0..r1 {
                        *drow.add(r) = *s.get_unchecked(r * cols + c);
                    }
                }
            }
        }
    }
}

/// Reverse the axis order of a C-ordered array: the C-ordered bytes of an array of shape
/// `shape` become its F-ordered bytes (equivalently, the C-ordered bytes of the reversed
/// shape). Works for any itemsize and any number of dimensions.
pub fn reverse_axes(src: &[u8], dst: &mut [u8], shape: &[usize], size: usize) {
    let count: usize = shape.iter().product();
    assert_eq!(src.len(), count * size);
    assert_eq!(dst.len(), src.len());
    let dims: Vec<usize> = shape.iter().copied().filter(|&d| d != 1).collect();
    if count == 0 {
        return;
    }
    if dims.len() <= 1 {
        dst.copy_from_slice(src);
        return;
    }
    // View the array as d0 × rest. Transposing moves axis 0 to the end, giving contiguous
    // runs of d0 elements (axis 0 fastest, as F order wants); the remaining axes are then
    // reversed recursively with those runs as elements.
    let d0 = dims[0];
    let rest = count / d0;
    if dims.len() == 2 {
        transpose(src, dst, d0, rest, size);
        return;
    }
    let mut tmp = vec![0u8; src.len()];
    transpose(src, &mut tmp, d0, rest, size);
    reverse_axes(&tmp, dst, &dims[1..], size * d0);
}

/// Interleaved complex (re, im, re, im, ...) → planar (all re, then all im). `size` is the
/// size of one real component (4 or 8).
pub fn split_complex(src: &[u8], dst: &mut [u8], size: usize) {
    assert_eq!(src.len(), dst.len());
    assert_eq!(src.len() % (2 * size), 0);
    let n = src.len() / (2 * size);
    match size {
        4 => split_typed::<[u8; 4]>(src, dst, n),
        8 => split_typed::<[u8; 8]>(src, dst, n),
        _ => {
            for i in 0..n {
                copy_elem(dst, i, src, 2 * i, size);
                copy_elem(dst, n + i, src, 2 * i + 1, size);
            }
        }
    }
}

fn split_typed<T: Copy>(src: &[u8], dst: &mut [u8], n: usize) {
    // SAFETY: T is a byte array; lengths checked by the caller.
    let s: &[[T; 2]] = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const [T; 2], n) };
    let d: &mut [T] = unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr() as *mut T, 2 * n) };
    let (re, im) = d.split_at_mut(n);
    for ((pair, r), i) in s.iter().zip(re.iter_mut()).zip(im.iter_mut()) {
        *r = pair[0];
        *i = pair[1];
    }
}

/// Planar complex (all re, then all im) → interleaved. Inverse of [`split_complex`].
pub fn join_complex(src: &[u8], dst: &mut [u8], size: usize) {
    assert_eq!(src.len(), dst.len());
    assert_eq!(src.len() % (2 * size), 0);
    let n = src.len() / (2 * size);
    match size {
        4 => join_typed::<[u8; 4]>(src, dst, n),
        8 => join_typed::<[u8; 8]>(src, dst, n),
        _ => {
            for i in 0..n {
                copy_elem(dst, 2 * i, src, i, size);
                copy_elem(dst, 2 * i + 1, src, n + i, size);
            }
        }
    }
}

fn join_typed<T: Copy>(src: &[u8], dst: &mut [u8], n: usize) {
    // SAFETY: as above.
    let s: &[T] = unsafe { std::slice::from_raw_parts(src.as_ptr() as *const T, 2 * n) };
    let d: &mut [[T; 2]] =
        unsafe { std::slice::from_raw_parts_mut(dst.as_mut_ptr() as *mut [T; 2], n) };
    let (re, im) = s.split_at(n);
    for ((pair, r), i) in d.iter_mut().zip(re).zip(im) {
        *pair = [*r, *i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference: element at C index of `shape` goes to its F index.
    fn reverse_naive(src: &[u8], shape: &[usize], size: usize) -> Vec<u8> {
        let count: usize = shape.iter().product();
        let mut dst = vec![0u8; src.len()];
        for c in 0..count {
            let mut rem = c;
            let mut idx = vec![0; shape.len()];
            for k in (0..shape.len()).rev() {
                idx[k] = rem % shape[k];
                rem /= shape[k];
            }
            let mut f = 0;
            for k in (0..shape.len()).rev() {
                f = f * shape[k] + idx[k];
            }
            dst[f * size..f * size + size].copy_from_slice(&src[c * size..c * size + size]);
        }
        dst
    }

    #[test]
    fn reverse_axes_matches_naive() {
        let shapes: &[&[usize]] = &[
            &[5],
            &[3, 4],
            &[37, 41],
            &[1, 7],
            &[7, 1, 3],
            &[2, 3, 4],
            &[5, 1, 6, 7],
            &[3, 0, 2],
            &[2, 3, 2, 3, 2],
        ];
        for shape in shapes {
            for size in [1usize, 2, 3, 4, 8, 16] {
                let count: usize = shape.iter().product();
                let src: Vec<u8> = (0..count * size).map(|i| (i * 31 + i / 7) as u8).collect();
                let mut dst = vec![0u8; src.len()];
                reverse_axes(&src, &mut dst, shape, size);
                assert_eq!(dst, reverse_naive(&src, shape, size), "{shape:?} {size}");
            }
        }
    }

    #[test]
    fn complex_split_join() {
        for size in [4usize, 8, 2] {
            let src: Vec<u8> = (0..size * 2 * 13).map(|i| i as u8).collect();
            let mut planar = vec![0u8; src.len()];
            split_complex(&src, &mut planar, size);
            assert_eq!(&planar[..size], &src[..size]);
            assert_eq!(&planar[13 * size..14 * size], &src[size..2 * size]);
            let mut back = vec![0u8; src.len()];
            join_complex(&planar, &mut back, size);
            assert_eq!(back, src);
        }
    }
}
