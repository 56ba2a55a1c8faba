// TrigramLens web layer: tensors for the page. A tensor is { shape: [..], data: Float64Array } in row-major order.
// Everything lives under one global, TrigramLensWeb, so the page needs no modules and works from file://.
(function (root) {
  "use strict";
  const W = root.TrigramLensWeb = root.TrigramLensWeb || {};

  /** Base64 to bytes (atob in browsers, Buffer in node for quick checks). */
  function decodeBase64(b64) {
    if (typeof atob === "function") {
      const s = atob(b64);
      const bytes = new Uint8Array(s.length);
      for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
      return bytes;
    }
    return new Uint8Array(Buffer.from(b64, "base64"));
  }

  /** { shape, data: base64 little-endian float32 } (TensorJson.Float32 in C#) to a float64 tensor. */
  function decodeTensor(node) {
    const bytes = decodeBase64(node.data);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const n = bytes.byteLength / 4;
    const expected = node.shape.reduce((a, b) => a * b, 1);
    if (n !== expected) throw new Error("tensor data holds " + n + " values, shape [" + node.shape + "] needs " + expected);
    const data = new Float64Array(n);
    for (let i = 0; i < n; i++) data[i] = view.getFloat32(4 * i, true);
    return { shape: node.shape.slice(), data: data };
  }

  function zeros(shape) {
    return { shape: shape.slice(), data: new Float64Array(shape.reduce((a, b) => a * b, 1)) };
  }

  function clone(t) {
    return { shape: t.shape.slice(), data: Float64Array.from(t.data) };
  }

  /** A tensor as nested plain arrays (what the page hands to scripts and tests). */
  function toNested(t) {
    function build(offset, dim) {
      const n = t.shape[dim];
      if (dim === t.shape.length - 1) return Array.from(t.data.subarray(offset, offset + n));
      const stride = t.shape.slice(dim + 1).reduce((a, b) => a * b, 1);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = build(offset + i * stride, dim + 1);
      return out;
    }
    return t.shape.length === 0 ? t.data[0] : build(0, 0);
  }

  /**
   * erf to about 1e-15: its Maclaurin series below 2.5, the continued fraction of erfc above
   * (JavaScript has no Math.erf; the exact GELU needs it).
   */
  function erf(x) {
    const ax = Math.abs(x);
    if (ax < 2.5) {
      const x2 = x * x;
      let term = x, sum = x;
      for (let n = 1; n < 200; n++) {
        term *= -x2 / n;
        const add = term / (2 * n + 1);
        sum += add;
        if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
      }
      return sum * 1.1283791670955126;   // 2 / sqrt(pi)
    }
    if (ax > 27) return Math.sign(x);
    let f = ax;
    for (let k = 80; k >= 1; k--) f = ax + (k / 2) / f;
    const erfc = Math.exp(-ax * ax) / 1.7724538509055159 / f;   // sqrt(pi)
    return Math.sign(x) * (1 - erfc);
  }

  /** Softmax of one row in place; -Infinity entries get probability 0. */
  function softmaxInPlace(a, offset, n) {
    let max = -Infinity;
    for (let i = 0; i < n; i++) if (a[offset + i] > max) max = a[offset + i];
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const e = a[offset + i] === -Infinity ? 0 : Math.exp(a[offset + i] - max);
      a[offset + i] = e;
      sum += e;
    }
    for (let i = 0; i < n; i++) a[offset + i] /= sum;
  }

  /** The k largest entries of a[offset .. offset + n) as [{ index, value }], largest first. */
  function topK(a, k, offset, n) {
    offset = offset || 0;
    n = n === undefined ? a.length - offset : n;
    if (k === 1) {   // argmax, the common case, without sorting
      let best = 0;
      for (let i = 1; i < n; i++) if (a[offset + i] > a[offset + best]) best = i;
      return n > 0 ? [{ index: best, value: a[offset + best] }] : [];
    }
    const idx = [];
    for (let i = 0; i < n; i++) idx.push(i);
    idx.sort((i, j) => a[offset + j] - a[offset + i]);
    return idx.slice(0, k).map(i => ({ index: i, value: a[offset + i] }));
  }

  /** Decodes base64 token ids: one byte each when bytesPerToken is 1, else little-endian uint16. */
  function decodeTokens(b64, bytesPerToken) {
    const bytes = decodeBase64(b64);
    if (bytesPerToken === 1) return bytes;
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const out = new Uint16Array(bytes.byteLength / 2);
    for (let i = 0; i < out.length; i++) out[i] = view.getUint16(2 * i, true);
    return out;
  }

  Object.assign(W, { decodeBase64, decodeTensor, decodeTokens, zeros, clone, toNested, erf, softmaxInPlace, topK });
})(typeof window !== "undefined" ? window : globalThis);
