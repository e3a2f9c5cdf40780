// BatchNorm on the batch's statistics, 2x2 max-pooling and ReLU as one pass forward and one back,
// for a channels-last [N, C, H, W] tensor (Conv-4's block after its convolution).
// Compiled on first use by core/algorithms/fused_block.py; see there for why.
// The loops run over channels innermost, without branches, so that the compiler vectorises them.
#include <ATen/ATen.h>
#include <ATen/Parallel.h>
#include <torch/library.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace {

constexpr int64_t kFlushRows = 256;  // rows summed in T before adding into double: fast and exact enough

// Per-channel sums over rows [0, rows) of what `add(row, acc)` adds into acc[C], split over threads.
template <typename T, typename F>
std::vector<double> channel_sums(int64_t rows, int64_t channels, F add) {
  const int threads = at::get_num_threads();
  std::vector<std::vector<double>> partial(threads, std::vector<double>(channels, 0.0));
  at::parallel_for(0, rows, kFlushRows, [&](int64_t begin, int64_t end) {
    auto& total = partial[at::get_thread_num()];
    std::vector<T> acc(channels);
    for (int64_t start = begin; start < end; start += kFlushRows) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t row = start; row < std::min(end, start + kFlushRows); ++row) add(row, acc.data());
      for (int64_t c = 0; c < channels; ++c) total[c] += acc[c];
    }
  });
  std::vector<double> sums(channels, 0.0);
  for (const auto& total : partial)
    for (int64_t c = 0; c < channels; ++c) sums[c] += total[c];
  return sums;
}

struct Shape {
  int64_t n, channels, height, width, out_h, out_w;
  explicit Shape(const at::Tensor& x)
      : n(x.size(0)), channels(x.size(1)), height(x.size(2)), width(x.size(3)),
        out_h(x.size(2) / 2), out_w(x.size(3) / 2) {}
};

// The channel's sign of scale, as +-1: the pool takes the largest sign * x (BatchNorm is monotone per channel).
template <typename T>
std::vector<T> signs(const T* scale, int64_t channels) {
  std::vector<T> sign(channels);
  for (int64_t c = 0; c < channels; ++c) sign[c] = scale[c] >= 0 ? T(1) : T(-1);
  return sign;
}

template <typename T>
std::vector<at::Tensor> forward_impl(const at::Tensor& x, const at::Tensor& scale, const at::Tensor& shift,
                                     double eps) {
  const Shape s(x);
  const int64_t C = s.channels, rows = s.n * s.height * s.width;
  const T* in = x.data_ptr<T>();
  const T* g = scale.data_ptr<T>();
  const T* b = shift.data_ptr<T>();

  auto sums = channel_sums<T>(rows, C, [&](int64_t row, T* acc) {
    const T* p = in + row * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) acc[c] += p[c];
  });
  std::vector<T> mean(C);
  #pragma GCC ivdep
  for (int64_t c = 0; c < C; ++c) mean[c] = static_cast<T>(sums[c] / rows);
  const T* m = mean.data();
  auto squares = channel_sums<T>(rows, C, [&](int64_t row, T* acc) {
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
  at::parallel_for(0, s.n * s.out_h, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nh = begin; nh < end; ++nh) {
      const int64_t image = nh / s.out_h, oh = nh % s.out_h;
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const T* w0 = in + ((image * s.height + 2 * oh) * s.width + 2 * ow) * C;
        const T* w1 = w0 + C;
        const T* w2 = w0 + s.width * C;
        const T* w3 = w2 + C;
        T* dst = o + ((image * s.out_h + oh) * s.out_w + ow) * C;
        #pragma GCC ivdep
        for (int64_t c = 0; c < C; ++c) {
          const T best = std::max(std::max(sg[c] * w0[c], sg[c] * w1[c]), std::max(sg[c] * w2[c], sg[c] * w3[c]));
          const T y = ap[c] * (sg[c] * best - m[c]) + b[c];
          dst[c] = std::max(y, T(0));
        }
      }
    }
  });
  return {out, mean_t, rstd_t};
}

template <typename T>
std::vector<at::Tensor> backward_impl(const at::Tensor& grad_out, const at::Tensor& x, const at::Tensor& out,
                                      const at::Tensor& mean_t, const at::Tensor& rstd_t, const at::Tensor& scale) {
  const Shape s(x);
  const int64_t C = s.channels, count = s.n * s.height * s.width;
  const T* in = x.data_ptr<T>();
  const T* go = grad_out.data_ptr<T>();
  const T* o = out.data_ptr<T>();
  const T* m = mean_t.data_ptr<T>();
  const T* r = rstd_t.data_ptr<T>();
  const T* g = scale.data_ptr<T>();
  std::vector<T> sign = signs(g, C);
  const T* sg = sign.data();

  // d/dshift: the gradient that reaches each pooled BatchNorm output through the ReLU; d/dscale: times its x-hat.
  auto window = [&](int64_t p) {  // pooled position p -> the top-left input of its window
    const int64_t image = p / (s.out_h * s.out_w), rest = p % (s.out_h * s.out_w);
    return in + ((image * s.height + 2 * (rest / s.out_w)) * s.width + 2 * (rest % s.out_w)) * C;
  };
  const int64_t pooled = s.n * s.out_h * s.out_w;
  auto sum_g = channel_sums<T>(pooled, C, [&](int64_t p, T* acc) {
    const T* gp = go + p * C;
    const T* op = o + p * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) acc[c] += op[c] > 0 ? gp[c] : T(0);
  });
  auto sum_gx = channel_sums<T>(pooled, C, [&](int64_t p, T* acc) {
    const T* w0 = window(p);
    const T* w1 = w0 + C;
    const T* w2 = w0 + s.width * C;
    const T* w3 = w2 + C;
    const T* gp = go + p * C;
    const T* op = o + p * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) {
      const T best = std::max(std::max(sg[c] * w0[c], sg[c] * w1[c]), std::max(sg[c] * w2[c], sg[c] * w3[c]));
      acc[c] += (op[c] > 0 ? gp[c] : T(0)) * ((sg[c] * best - m[c]) * r[c]);
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
  at::parallel_for(0, s.n * s.out_h, 1, [&](int64_t begin, int64_t end) {
    for (int64_t nh = begin; nh < end; ++nh) {
      const int64_t image = nh / s.out_h, oh = nh % s.out_h;
      for (int64_t ow = 0; ow < s.out_w; ++ow) {
        const int64_t first = ((image * s.height + 2 * oh) * s.width + 2 * ow) * C;
        const T* w0 = in + first;
        const T* w1 = w0 + C;
        const T* w2 = w0 + s.width * C;
        const T* w3 = w2 + C;
        T* d0 = dx + first;
        T* d1 = d0 + C;
        T* d2 = d0 + s.width * C;
        T* d3 = d2 + C;
        const int64_t p = ((image * s.out_h + oh) * s.out_w + ow) * C;
        #pragma GCC ivdep
        for (int64_t c = 0; c < C; ++c) {
          const T v0 = sg[c] * w0[c], v1 = sg[c] * w1[c], v2 = sg[c] * w2[c], v3 = sg[c] * w3[c];
          const T best = std::max(std::max(v0, v1), std::max(v2, v3));
          const T gy = o[p + c] > 0 ? go[p + c] : T(0);
          const T t0 = v0 == best ? T(1) : T(0);
          const T t1 = (v1 == best ? T(1) : T(0)) * (1 - t0);
          const T t2 = (v2 == best ? T(1) : T(0)) * (1 - t0) * (1 - t1);
          const T t3 = 1 - t0 - t1 - t2;
          d0[c] = ap[c] * (t0 * gy - mg[c] - (w0[c] - m[c]) * r[c] * mgx[c]);
          d1[c] = ap[c] * (t1 * gy - mg[c] - (w1[c] - m[c]) * r[c] * mgx[c]);
          d2[c] = ap[c] * (t2 * gy - mg[c] - (w2[c] - m[c]) * r[c] * mgx[c]);
          d3[c] = ap[c] * (t3 * gy - mg[c] - (w3[c] - m[c]) * r[c] * mgx[c]);
        }
      }
    }
  });
  // An odd last row or column lies in no window: only the statistics' share reaches it.
  auto outside = [&](int64_t row) {
    const T* xp = in + row * C;
    T* dp = dx + row * C;
    #pragma GCC ivdep
    for (int64_t c = 0; c < C; ++c) dp[c] = ap[c] * (-mg[c] - (xp[c] - m[c]) * r[c] * mgx[c]);
  };
  for (int64_t image = 0; image < s.n; ++image) {
    for (int64_t h = 0; h < s.height; ++h) {
      if (h >= 2 * s.out_h) {
        for (int64_t w = 0; w < s.width; ++w) outside((image * s.height + h) * s.width + w);
      } else if (s.width > 2 * s.out_w) {
        outside((image * s.height + h) * s.width + s.width - 1);
      }
    }
  }
  return {grad_x, grad_scale, grad_shift};
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

}  // namespace

TORCH_LIBRARY(playground_fused_block, m) {
  m.def("block_forward", &block_forward);    // BatchNorm (batch statistics), 2x2 max-pool and ReLU
  m.def("block_backward", &block_backward);  // their gradient with respect to x, scale and shift
}
