// BatchNorm on the batch's statistics, 2x2 max-pooling and ReLU as one pass forward and one back,
// for a channels-last [N, C, H, W] tensor (Conv-4's block after its convolution).
// Compiled on first use by core/algorithms/fused_block.py; see there for why.
// The loops run over channels innermost, without branches, so that the compiler vectorises them.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace {

constexpr int64_t kFlushRows = 256;  // rows summed in T before adding into double: fast and exact enough

// K per-channel sums over rows [0, rows) of what `add(row, acc)` adds into acc[K][C], split over threads:
// one pass over the data for all K.
template <typename T, int K, typename F>
std::array<std::vector<double>, K> channel_sums(int64_t rows, int64_t channels, F add) {
  const int threads = at::get_num_threads();
  std::vector<std::vector<double>> partial(threads, std::vector<double>(K * channels, 0.0));
  at::parallel_for(0, rows, kFlushRows, [&](int64_t begin, int64_t end) {
    auto& total = partial[at::get_thread_num()];
    std::vector<T> acc(K * channels);
    for (int64_t start = begin; start < end; start += kFlushRows) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t row = start; row < std::min(end, start + kFlushRows); ++row) add(row, acc.data());
      for (int64_t i = 0; i < K * channels; ++i) total[i] += acc[i];
    }
  });
  std::array<std::vector<double>, K> sums;
  for (int k = 0; k < K; ++k) {
    sums[k].assign(channels, 0.0);
    for (const auto& total : partial)
      for (int64_t c = 0; c < channels; ++c) sums[k][c] += total[k * channels + c];
  }
  return sums;
}

// The [N, C, H, W] input and its 2x2 windows. Offsets count elements of the channels-last tensors.
struct Shape {
  int64_t n, channels, height, width, out_h, out_w;
  explicit Shape(const at::Tensor& x)
      : n(x.size(0)), channels(x.size(1)), height(x.size(2)), width(x.size(3)),
        out_h(x.size(2) / 2), out_w(x.size(3) / 2) {}

  int64_t positions() const { return n * height * width; }
  int64_t pooled() const { return n * out_h * out_w; }
  int64_t row_below() const { return width * channels; }  // from a window's top row to its bottom row

  // Pooled position p -> the offset of its window's top-left input.
  int64_t window_start(int64_t p) const {
    const int64_t image = p / (out_h * out_w), rest = p % (out_h * out_w);
    return ((image * height + 2 * (rest / out_w)) * width + 2 * (rest % out_w)) * channels;
  }

  // fn(first, at): every window, in parallel; first = its top-left input's offset, at = its output's.
  template <typename F>
  void for_each_window(F fn) const {
    at::parallel_for(0, n * out_h, 1, [&](int64_t begin, int64_t end) {
      for (int64_t nh = begin; nh < end; ++nh) {
        const int64_t image = nh / out_h, oh = nh % out_h;
        for (int64_t ow = 0; ow < out_w; ++ow)
          fn(((image * height + 2 * oh) * width + 2 * ow) * channels, ((image * out_h + oh) * out_w + ow) * channels);
      }
    });
  }

  // fn(offset): the inputs of an odd last row or column, which lie in no window.
  template <typename F>
  void for_each_outside(F fn) const {
    for (int64_t image = 0; image < n; ++image) {
      for (int64_t h = 0; h < height; ++h) {
        if (h >= 2 * out_h) {
          for (int64_t w = 0; w < width; ++w) fn(((image * height + h) * width + w) * channels);
        } else if (width > 2 * out_w) {
          fn(((image * height + h) * width + width - 1) * channels);
        }
      }
    }
  }
};

// A window's four inputs of one tensor: top-left, top-right, bottom-left, bottom-right.
template <typename T>
struct Quad {
  T* p[4];
  Quad(T* base, int64_t first, int64_t channels, int64_t row_below)
      : p{base + first, base + first + channels, base + first + row_below, base + first + row_below + channels} {}
};

// One-hot weights of the first largest of four (PyTorch's max-pool choice on ties), without branches.
template <typename T>
inline std::array<T, 4> first_largest(T v0, T v1, T v2, T v3, T best) {
  const T t0 = v0 == best ? T(1) : T(0);
  const T t1 = (v1 == best ? T(1) : T(0)) * (1 - t0);
  const T t2 = (v2 == best ? T(1) : T(0)) * (1 - t0) * (1 - t1);
  return {t0, t1, t2, 1 - t0 - t1 - t2};
}

// The channel's sign of scale, as +-1: the pool takes the largest sign * x (BatchNorm is monotone per channel).
template <typename T>
std::vector<T> signs(const T* scale, int64_t channels) {
  std::vector<T> sign(channels);
  for (int64_t c = 0; c < channels; ++c) sign[c] = scale[c] >= 0 ? T(1) : T(-1);
  return sign;
}

// What the forward saved, as the backward and its derivative read it.
template <typename T>
struct Saved {
  const T *in, *go, *o, *m, *r, *g;
  std::vector<T> sign;
  Saved(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& out, const at::Tensor& mean,
        const at::Tensor& rstd, const at::Tensor& scale)
      : in(x.data_ptr<T>()), go(grad_out.data_ptr<T>()), o(out.data_ptr<T>()), m(mean.data_ptr<T>()),
        r(rstd.data_ptr<T>()), g(scale.data_ptr<T>()), sign(signs(g, scale.numel())) {}
};

template <typename T>
std::vector<at::Tensor> forward_impl(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift,
                                     double eps) {
  const Shape s(x);
  const int64_t C = s.channels, rows = s.positions();
  const T* in = x.data_ptr<T>();
  const T* g = scale.data_ptr<T>();
  const T* b = shift.data_ptr<T>();

  auto [sums] = channel_sums<T, 1>(rows, C, [&](int64_t row, T* acc) {
    const T* p = in + row * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) acc[c] += p[c];
  });
  std::vector<T> mean(C);
  #pragma GCC ivdep
  for (int64_t c = 0; c < C; ++c) mean[c] = static_cast<T>(sums[c] / rows);
  const T* m = mean.data();
  auto [squares] = channel_sums<T, 1>(rows, C, [&](int64_t row, T* acc) {
    const T* p = in + row * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) acc[c] += (p[c] - m[c]) * (p[c] - m[c]);
  });
  auto options = x.options();
  auto mean_t = at::empty({C}, options), rstd_t = at::empty({C}, options);
  std::vector<T> a(C), sign = signs(g, C);
  #pragma GCC ivdep
  for (int64_t c = 0; c < C; ++c) {
    mean_t.data_ptr<T>()[c] = mean[c];
    const T rstd = static_cast<T>(1.0 / std::sqrt(squares[c] / rows + eps));
    rstd_t.data_ptr<T>()[c] = rstd;
    a[c] = g[c] * rstd;
  }

  auto out = at::empty({s.n, C, s.out_h, s.out_w}, options.memory_format(at::MemoryFormat::ChannelsLast));
  T* o = out.data_ptr<T>();
  const T* sg = sign.data();
  const T* ap = a.data();
  s.for_each_window([&](int64_t first, int64_t at) {
    const Quad<const T> w(in, first, C, s.row_below());
    T* dst = o + at;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T best = std::max(std::max(sg[c] * w.p[0][c], sg[c] * w.p[1][c]),
                              std::max(sg[c] * w.p[2][c], sg[c] * w.p[3][c]));
      dst[c] = std::max(ap[c] * (sg[c] * best - m[c]) + b[c], T(0));
    }
  });
  return {out, mean_t, rstd_t};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& out,
                                      const at::Tensor& mean_t, const at::Tensor& rstd_t, const at::Tensor& scale) {
  const Shape s(x);
  const int64_t C = s.channels, count = s.positions();
  const Saved<T> v(grad_out, x, out, mean_t, rstd_t, scale);
  const T *in = v.in, *go = v.go, *o = v.o, *m = v.m, *r = v.r, *g = v.g, *sg = v.sign.data();

  // d/dshift: the gradient that reaches each pooled BatchNorm output through the ReLU; d/dscale: times its x-hat.
  auto [sum_g, sum_gx] = channel_sums<T, 2>(s.pooled(), C, [&](int64_t p, T* acc) {
    const Quad<const T> w(in, s.window_start(p), C, s.row_below());
    const T* gp = go + p * C;
    const T* op = o + p * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T best = std::max(std::max(sg[c] * w.p[0][c], sg[c] * w.p[1][c]),
                              std::max(sg[c] * w.p[2][c], sg[c] * w.p[3][c]));
      const T gy = op[c] > 0 ? gp[c] : T(0);
      acc[c] += gy;
      acc[C + c] += gy * ((sg[c] * best - m[c]) * r[c]);
    }
  });
  auto grad_scale = at::empty({C}, scale.options()), grad_shift = at::empty({C}, scale.options());
  std::vector<T> a(C), mean_g(C), mean_gx(C);
  #pragma GCC ivdep
  for (int64_t c = 0; c < C; ++c) {
    grad_scale.data_ptr<T>()[c] = static_cast<T>(sum_gx[c]);
    grad_shift.data_ptr<T>()[c] = static_cast<T>(sum_g[c]);
    a[c] = g[c] * r[c];
    mean_g[c] = static_cast<T>(sum_g[c] / count);
    mean_gx[c] = static_cast<T>(sum_gx[c] / count);
  }
  const T* ap = a.data();
  const T* mg = mean_g.data();
  const T* mgx = mean_gx.data();

  // dx = scale * rstd * (g_y - mean(g_y) - x-hat * mean(g_y * x-hat)); g_y is nonzero only at the first
  // largest value of each window (PyTorch's choice on ties), where the ReLU let the gradient through.
  auto grad_x = at::empty_like(x, x.options().memory_format(at::MemoryFormat::ChannelsLast));
  T* dx = grad_x.data_ptr<T>();
  s.for_each_window([&](int64_t first, int64_t at) {
    const Quad<const T> w(in, first, C, s.row_below());
    const Quad<T> d(dx, first, C, s.row_below());
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T v0 = sg[c] * w.p[0][c], v1 = sg[c] * w.p[1][c], v2 = sg[c] * w.p[2][c], v3 = sg[c] * w.p[3][c];
      const auto t = first_largest(v0, v1, v2, v3, std::max(std::max(v0, v1), std::max(v2, v3)));
      const T gy = o[at + c] > 0 ? go[at + c] : T(0);
      for (int k = 0; k < 4; ++k) d.p[k][c] = ap[c] * (t[k] * gy - mg[c] - (w.p[k][c] - m[c]) * r[c] * mgx[c]);
    }
  });
  // An odd last row or column lies in no window: only the statistics' share reaches it.
  s.for_each_outside([&](int64_t offset) {
    const T* xp = in + offset;
    T* dp = dx + offset;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) dp[c] = ap[c] * (-mg[c] - (xp[c] - m[c]) * r[c] * mgx[c]);
  });
  return {grad_x, grad_scale, grad_shift};
}

// The backward's own derivative, for MAML's second order. Given the backward's inputs (g_y, x, scale) and the
// gradients G_dx, G_dscale, G_dshift that reach its outputs, it returns their gradients with respect to g_y, x
// and scale (the ReLU's mask and the pool's choice are piecewise constant: no gradient through them).
// Per channel, with x-hat = (x - mean) * rstd, g_z the pool's scatter of g_y, P(v) = v - mean(v) - x-hat * mean(v x-hat):
//   dx = scale * rstd * P(g_z), dscale = sum g_z x-hat, dshift = sum g_z, and so
//   d/dg_z = G_dshift + G_dscale x-hat + scale * rstd * P(G_dx)     (gathered at each window's choice, masked)
//   d/dscale = rstd * S,   S = sum G_dx * P(g_z)
//   d/dx = rstd (G_dscale - scale rstd mean(G_dx x-hat)) P(g_z) - scale rstd^2 (mean(g_z x-hat) P(G_dx) + x-hat S / count)
template <typename T>
std::vector<at::Tensor> double_backward_impl(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& out,
                                             const at::Tensor& mean_t, const at::Tensor& rstd_t,
                                             const at::Tensor& scale, const at::Tensor& gg_x,
                                             const at::Tensor& gg_scale, const at::Tensor& gg_shift) {
  const Shape s(x);
  const int64_t C = s.channels, count = s.positions();
  const Saved<T> v(grad_out, x, out, mean_t, rstd_t, scale);
  const T *in = v.in, *go = v.go, *o = v.o, *m = v.m, *r = v.r, *g = v.g, *sg = v.sign.data();
  const T* G = gg_x.data_ptr<T>();
  const T* Gs = gg_scale.data_ptr<T>();
  const T* Gb = gg_shift.data_ptr<T>();

  // Over windows: sum g_z, sum g_z x-hat, sum g_z G_dx (g_z is nonzero only at the choices).
  auto [sum_g, sum_gx, sum_gG] = channel_sums<T, 3>(s.pooled(), C, [&](int64_t p, T* acc) {
    const int64_t first = s.window_start(p);
    const Quad<const T> w(in, first, C, s.row_below()), Gw(G, first, C, s.row_below());
    const T* gp = go + p * C;
    const T* op = o + p * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T v0 = sg[c] * w.p[0][c], v1 = sg[c] * w.p[1][c], v2 = sg[c] * w.p[2][c], v3 = sg[c] * w.p[3][c];
      const T best = std::max(std::max(v0, v1), std::max(v2, v3));
      const auto t = first_largest(v0, v1, v2, v3, best);
      const T gy = op[c] > 0 ? gp[c] : T(0);
      acc[c] += gy;
      acc[C + c] += gy * ((sg[c] * best - m[c]) * r[c]);
      acc[2 * C + c] += gy * (t[0] * Gw.p[0][c] + t[1] * Gw.p[1][c] + t[2] * Gw.p[2][c] + t[3] * Gw.p[3][c]);
    }
  });
  // Over every position: sum G_dx and sum G_dx x-hat.
  auto [sum_G, sum_Gx] = channel_sums<T, 2>(s.positions(), C, [&](int64_t row, T* acc) {
    const T* Gp = G + row * C;
    const T* xp = in + row * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      acc[c] += Gp[c];
      acc[C + c] += Gp[c] * (xp[c] - m[c]) * r[c];
    }
  });

  auto grad_scale = at::empty({C}, scale.options());
  std::vector<T> mg(C), mgx(C), mG(C), mGx(C), k1(C), k2(C), k3(C), gr(C);
  for (int64_t c = 0; c < C; ++c) {
    const double S = sum_gG[c] - sum_g[c] * sum_G[c] / count - sum_gx[c] * sum_Gx[c] / count;
    grad_scale.data_ptr<T>()[c] = static_cast<T>(r[c] * S);
    mg[c] = static_cast<T>(sum_g[c] / count);
    mgx[c] = static_cast<T>(sum_gx[c] / count);
    mG[c] = static_cast<T>(sum_G[c] / count);
    mGx[c] = static_cast<T>(sum_Gx[c] / count);
    gr[c] = g[c] * r[c];
    k1[c] = r[c] * (Gs[c] - gr[c] * mGx[c]);
    k2[c] = gr[c] * r[c] * mgx[c];
    k3[c] = static_cast<T>(gr[c] * r[c] * S / count);
  }

  auto grad_x = at::empty_like(x, x.options().memory_format(at::MemoryFormat::ChannelsLast));
  auto grad_grad_out = at::empty_like(out, out.options().memory_format(at::MemoryFormat::ChannelsLast));
  T* dx = grad_x.data_ptr<T>();
  T* dgo = grad_grad_out.data_ptr<T>();
  // d/dx at one input, where g_z = t * g_y (t = 1 at the window's choice).
  auto position = [&](int64_t c, T xv, T Gv, T gz) {
    const T xh = (xv - m[c]) * r[c];
    return k1[c] * (gz - mg[c] - xh * mgx[c]) - k2[c] * (Gv - mG[c] - xh * mGx[c]) - k3[c] * xh;
  };
  s.for_each_window([&](int64_t first, int64_t at) {
    const Quad<const T> w(in, first, C, s.row_below()), Gw(G, first, C, s.row_below());
    const Quad<T> d(dx, first, C, s.row_below());
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T v0 = sg[c] * w.p[0][c], v1 = sg[c] * w.p[1][c], v2 = sg[c] * w.p[2][c], v3 = sg[c] * w.p[3][c];
      const T best = std::max(std::max(v0, v1), std::max(v2, v3));
      const auto t = first_largest(v0, v1, v2, v3, best);
      const T pass = o[at + c] > 0 ? T(1) : T(0);
      const T gy = pass * go[at + c];
      for (int k = 0; k < 4; ++k) d.p[k][c] = position(c, w.p[k][c], Gw.p[k][c], t[k] * gy);
      // d/dg_y: d/dg_z at the choice, through the ReLU's mask
      const T xh = (sg[c] * best - m[c]) * r[c];
      const T Gc = t[0] * Gw.p[0][c] + t[1] * Gw.p[1][c] + t[2] * Gw.p[2][c] + t[3] * Gw.p[3][c];
      dgo[at + c] = pass * (Gb[c] + Gs[c] * xh + gr[c] * (Gc - mG[c] - xh * mGx[c]));
    }
  });
  s.for_each_outside([&](int64_t offset) {
    for (int64_t c = 0; c < C; ++c) dx[offset + c] = position(c, in[offset + c], G[offset + c], T(0));
  });
  return {grad_grad_out, grad_x, grad_scale};
}

std::vector<at::Tensor> block_forward(at::Tensor x, at::Tensor scale, at::Tensor shift, double eps) {
  TORCH_CHECK(x.dim() == 4 && x.is_contiguous(at::MemoryFormat::ChannelsLast), "x: channels-last [N, C, H, W]");
  scale = scale.contiguous(), shift = shift.contiguous();
  if (x.scalar_type() == at::kDouble) return forward_impl<double>(x, scale, shift, eps);
  TORCH_CHECK(x.scalar_type() == at::kFloat, "float32 or float64");
  return forward_impl<float>(x, scale, shift, eps);
}

std::vector<at::Tensor> block_backward(at::Tensor grad_out, at::Tensor x, at::Tensor out, at::Tensor mean,
                                       at::Tensor rstd, at::Tensor scale) {
  grad_out = grad_out.contiguous(at::MemoryFormat::ChannelsLast), scale = scale.contiguous();
  if (x.scalar_type() == at::kDouble) return backward_impl<double>(grad_out, x, out, mean, rstd, scale);
  return backward_impl<float>(grad_out, x, out, mean, rstd, scale);
}

std::vector<at::Tensor> block_double_backward(at::Tensor grad_out, at::Tensor x, at::Tensor out, at::Tensor mean,
                                              at::Tensor rstd, at::Tensor scale, at::Tensor gg_x,
                                              at::Tensor gg_scale, at::Tensor gg_shift) {
  grad_out = grad_out.contiguous(at::MemoryFormat::ChannelsLast), scale = scale.contiguous();
  gg_x = gg_x.contiguous(at::MemoryFormat::ChannelsLast);
  gg_scale = gg_scale.contiguous(), gg_shift = gg_shift.contiguous();
  if (x.scalar_type() == at::kDouble)
    return double_backward_impl<double>(grad_out, x, out, mean, rstd, scale, gg_x, gg_scale, gg_shift);
  return double_backward_impl<float>(grad_out, x, out, mean, rstd, scale, gg_x, gg_scale, gg_shift);
}

}  // namespace

TORCH_LIBRARY(playground_fused_block, m) {
  m.def("block_forward", &block_forward);    // BatchNorm (batch statistics), 2x2 max-pool and ReLU
  m.def("block_backward", &block_backward);  // their gradient with respect to x, scale and shift
  m.def("block_double_backward", &block_double_backward);  // the backward's gradient (MAML's second order)
}
