package armkernels

import "fmt"

// CopyRows copies rows runs of n bytes, src[r·srcStride:][:n] to dst[r·dstStride:][:n] for
// r < rows: the gather of an im2col, one call per kernel row of a whole output row instead
// of one memmove per patch. Runs must not overlap between dst and src. Shapes that would
// reach outside dst or src panic with the numbers. It does not allocate.
func (k *Kernels) CopyRows(dst []int8, dstStride int, src []int8, srcStride, rows, n int) {
	if rows <= 0 || n <= 0 {
		return
	}
	if dstStride < 0 || srcStride < 0 || len(dst) < (rows-1)*dstStride+n || len(src) < (rows-1)*srcStride+n {
		panic(fmt.Sprintf("armkernels: CopyRows %d rows of %d bytes, strides %d (dst %d bytes) and %d (src %d bytes)",
			rows, n, dstStride, len(dst), srcStride, len(src)))
	}
	m := copyRowsBlocks(k.helper, dst, dstStride, src, srcStride, rows, n)
	if m == n {
		return
	}
	for r := 0; r < rows; r++ {
		copy(dst[r*dstStride+m:r*dstStride+n], src[r*srcStride+m:r*srcStride+n])
	}
}
