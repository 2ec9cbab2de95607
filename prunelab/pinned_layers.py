"""Conv2d and Linear whose every sum is prunelab.compute.product's: the same bytes on any x86-64
machine with AVX2 and any core count, as the MLP path's (prunelab/compute.py).

torch's own CPU convolution is oneDNN's, whose bytes change with its instruction set, ATen's
capability, torch's thread count and mkldnn on or off (docs/reproducibility.md); within one
instruction set oneDNN also picks its blocking (and so the order of a reduction) from the
CPU's cache sizes, which no variable pins. Here a batch is cut into pieces of CHUNK samples
(fixed by the shapes alone), spread over prunelab's workers, channels-last in memory: per
piece, a convolution is im2col (one copy, no arithmetic) and one product over all its samples'
positions; its backward is one product for the input gradient, added into the input by col2im
(each pixel's k_h * k_w contributions in unfold's order), and one each for the weight and bias
gradients, which are then added in the pieces' order. A linear layer's products go in tiles of
CHUNK rows. No order depends on the workers. Max-pooling is torch's own kernel per piece (no
sums: its bytes whatever the pieces); ReLU and flatten do no sums; the loss's few sums are
ATen's, pinned like the MLP's (prunelab/numerics.py). A pinned convolution's output and input
gradient are channels-last tensors (the same values; torch's ops take any layout).

`pinned(module)` is a copy of a module with each nn.Conv2d, nn.Linear and nn.MaxPool2d replaced
by these subclasses: the same parameter names and values, so a state_dict moves between the two. What
they cost against torch's own: bench/conv.py.
"""
import copy

import torch
from torch import nn

from prunelab import compute


def _operand(t: torch.Tensor) -> torch.Tensor:
    """t as compute.product takes it: contiguous, or a contiguous matrix's transpose as it is
    (numpy hands BLAS the transposed layout; copying a large saved im2col matrix would cost more
    than the product)."""
    t = t.detach()
    return t if t.is_contiguous() or (t.dim() == 2 and t.t().is_contiguous()) else t.contiguous()


def _product(a: torch.Tensor, b: torch.Tensor, tile_rows: int = compute.ROWS) -> torch.Tensor:
    """a @ b through compute.product; a: (models x) rows x inner, b: (models x) inner x columns."""
    models = a.shape[0] if a.dim() == 3 else b.shape[0] if b.dim() == 3 else 1
    out = torch.empty(models, a.shape[-2], b.shape[-1], dtype=a.dtype, device=a.device)
    return compute.product(_operand(a), _operand(b), out, tile_rows=tile_rows)


def _sums(rows: torch.Tensor) -> torch.Tensor:
    """Each row's sum (rows x n -> rows) as a product with ones: compute.product's order."""
    return _product(rows, torch.ones(rows.shape[-1], 1, dtype=rows.dtype, device=rows.device))[0, :, 0]


# Samples one piece of a convolution takes (see above). 32 measured quickest of 8, 16, 32 and 64
# for LeNet-5 at batch 128 on 2 workers (1.91 s an epoch of 2,048 images; 2.19, 2.12, 2.04 s).
CHUNK = 32


def _pieces(samples: int) -> list[tuple[int, int]]:
    return [(start, min(start + CHUNK, samples)) for start in range(0, samples, CHUNK)]


def _map(function, items, device):
    """The pieces over the workers on the CPU; on a GPU one after another (the GPU is the
    parallelism, and a backward there runs on torch's own device thread, which must not wait
    on workers that are waiting for that backward)."""
    return compute.parallel_map(function, items) if device.type == "cpu" else [function(item) for item in items]


def _padded(x, padding):
    """x (samples x channels x height x width, channels-last in memory) zero-padded, as
    samples x height x width x channels, contiguous."""
    x = x.permute(0, 2, 3, 1)
    if not any(padding):
        return x
    out = x.new_zeros(x.shape[0], x.shape[1] + 2 * padding[0], x.shape[2] + 2 * padding[1], x.shape[3])
    out[:, padding[0]:padding[0] + x.shape[1], padding[1]:padding[1] + x.shape[2]] = x
    return out


def _windows(x, kernel, stride, dilation, out_size):
    """The view (samples, out_h, out_w, k_h, k_w, c_in) of x (samples x height x width x c_in,
    contiguous): every output position's window; im2col is its reshape, col2im adds into it."""
    along_sample, along_row, along_column, _ = x.stride()
    return x.as_strided(
        (x.shape[0], *out_size, *kernel, x.shape[3]),
        (along_sample, along_row * stride[0], along_column * stride[1], along_row * dilation[0],
         along_column * dilation[1], 1))


def _out_size(size, kernel, stride, padding, dilation):
    return tuple((size[i] + 2 * padding[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in (0, 1))


class _Conv(torch.autograd.Function):
    # Channels-last throughout: im2col copies c_in floats at a time, one product per piece gives
    # samples x positions x filters (the output's channels-last layout, written in place), and a
    # following max-pooling takes it as it is. The kernel is (filters, k_h, k_w, c_in) to match.
    @staticmethod
    def forward(ctx, x, weight, bias, stride, padding, dilation):
        samples, _, height, width = x.shape
        filters, _, k_h, k_w = weight.shape
        kernel = weight.detach().permute(0, 2, 3, 1).reshape(filters, -1)
        out_h, out_w = _out_size((height, width), (k_h, k_w), stride, padding, dilation)
        positions = out_h * out_w
        x = x.detach().contiguous(memory_format=torch.channels_last)
        out = x.new_empty(samples * positions, filters)

        def piece(bounds):
            start, stop = bounds
            part = x[start:stop]
            columns = _windows(_padded(part, padding), (k_h, k_w), stride, dilation, (out_h, out_w)) \
                .reshape((stop - start) * positions, -1)  # samples * positions x k_h*k_w*c_in
            if columns.data_ptr() == part.data_ptr():  # a 1x1 kernel's im2col is x itself: keep a copy for backward
                columns = columns.clone()
            rows = out[start * positions:stop * positions]
            compute.product(columns, kernel.t(), rows.view(1, *rows.shape), tile_rows=len(rows))
            if bias is not None:
                rows += bias.detach()
            return columns

        ctx.columns = _map(piece, _pieces(samples), x.device)
        ctx.save_for_backward(weight)
        ctx.geometry = ((height, width), (k_h, k_w), stride, padding, dilation, bias is not None)
        return out.view(samples, out_h, out_w, filters).permute(0, 3, 1, 2)

    @staticmethod
    def backward(ctx, grad_out):
        (weight,) = ctx.saved_tensors
        size, kernel, stride, padding, dilation, has_bias = ctx.geometry
        samples, filters, out_h, out_w = grad_out.shape
        positions, channels = out_h * out_w, weight.shape[1]
        # samples * positions x filters (a view when grad_out is channels-last, as ours is)
        grad = grad_out.contiguous(memory_format=torch.channels_last).permute(0, 2, 3, 1).reshape(-1, filters)
        flat_weight = weight.detach().permute(0, 2, 3, 1).reshape(filters, -1)
        wants_weight, wants_bias, wants_x = ctx.needs_input_grad[1], has_bias and ctx.needs_input_grad[2], \
            ctx.needs_input_grad[0]
        grad_x = grad.new_empty(samples, size[0], size[1], channels) if wants_x else None

        def piece(index_bounds):
            index, (start, stop) = index_bounds
            every = grad[start * positions:stop * positions]
            grad_weight = _product(every.t(), ctx.columns[index])[0] if wants_weight else None
            grad_bias = _sums(every.t()) if wants_bias else None
            if wants_x:  # col2im: each kernel offset's contributions added in turn, in unfold's order
                parts = _product(every, flat_weight, len(every))[0].view(stop - start, out_h, out_w, *kernel, channels)
                total = grad.new_zeros(stop - start, size[0] + 2 * padding[0], size[1] + 2 * padding[1], channels)
                windows = _windows(total, kernel, stride, dilation, (out_h, out_w))
                for row in range(kernel[0]):
                    for column in range(kernel[1]):
                        windows[:, :, :, row, column] += parts[:, :, :, row, column]
                grad_x[start:stop] = total[:, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
            return grad_weight, grad_bias

        done = _map(piece, list(enumerate(_pieces(samples))), grad_out.device)
        del ctx.columns

        def added(parts):  # in the pieces' order, whatever worker computed which
            total = parts[0].clone()
            for part in parts[1:]:
                total += part
            return total

        grad_weight = added([part for part, _ in done]).view(filters, *kernel, channels).permute(0, 3, 1, 2) \
            .contiguous() if wants_weight else None
        grad_bias = added([part for _, part in done]) if wants_bias else None
        return grad_x.permute(0, 3, 1, 2) if wants_x else None, grad_weight, grad_bias, None, None, None


class _Linear(torch.autograd.Function):
    # Tiles of CHUNK rows: a conv net's minibatch (128 samples) would be one tile of compute.ROWS,
    # one core's work. The tiles are fixed by the shapes, so the bytes are the same on any count.
    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        out = _product(x, weight.t(), CHUNK)[0]
        return out + bias if bias is not None else out

    @staticmethod
    def backward(ctx, grad_out):
        x, weight = ctx.saved_tensors
        grad_x = _product(grad_out, weight, CHUNK)[0] if ctx.needs_input_grad[0] else None
        grad_weight = _product(grad_out.t(), x, CHUNK)[0] if ctx.needs_input_grad[1] else None
        grad_bias = _sums(grad_out.t()) if ctx.has_bias and ctx.needs_input_grad[2] else None
        return grad_x, grad_weight, grad_bias


class _Pool(torch.autograd.Function):
    """Max-pooling by torch's own kernels, its pieces of samples over the workers: a sample's
    maxima and their gradient depend on that sample alone, so these are nn.MaxPool2d's bytes.
    It runs channels-last (a pinned convolution's output is, else a copy): torch's vectorised
    kernel, the same maxima and the same first-in-window indices (ties included, tested) as its
    channels-first loop, in about a sixth of the time for LeNet-5's first pooling; the output
    stays channels-last for the next convolution."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, ceil_mode):
        x = x.detach().contiguous(memory_format=torch.channels_last)
        pieces = _pieces(len(x))
        # Each piece writes its rows of the outputs (no concatenation after, on one core).
        first, _ = torch.ops.aten.max_pool2d_with_indices(x[:1], kernel, stride, padding, dilation, ceil_mode)
        out = torch.empty((len(x), *first.shape[1:]), dtype=x.dtype, device=x.device, memory_format=torch.channels_last)
        indices = torch.empty(out.shape, dtype=torch.int64, device=x.device, memory_format=torch.channels_last)

        def piece(bounds):
            start, stop = bounds
            torch.ops.aten.max_pool2d_with_indices.out(x[start:stop], kernel, stride, padding, dilation, ceil_mode,
                                                       out=out[start:stop], indices=indices[start:stop])

        _map(piece, pieces, x.device)
        ctx.save_for_backward(x, indices)
        ctx.geometry = (kernel, stride, padding, dilation, ceil_mode)
        return out

    @staticmethod
    def backward(ctx, grad_out):
        x, indices = ctx.saved_tensors
        grad_x = torch.empty_like(x)  # channels-last, as x

        def piece(bounds):
            start, stop = bounds
            torch.ops.aten.max_pool2d_with_indices_backward.grad_input(  # channels-last too: 5x quicker here
                grad_out[start:stop].contiguous(memory_format=torch.channels_last), x[start:stop], *ctx.geometry,
                indices[start:stop], grad_input=grad_x[start:stop])

        _map(piece, _pieces(len(x)), x.device)
        return grad_x, None, None, None, None, None


class PinnedMaxPool2d(nn.MaxPool2d):
    """nn.MaxPool2d computed by _Pool (the same bytes, spread over the workers)."""

    def forward(self, x):
        if self.return_indices or x.dim() != 4:
            return super().forward(x)
        pair = nn.modules.utils._pair
        stride = self.stride if self.stride is not None else self.kernel_size
        return _Pool.apply(x, pair(self.kernel_size), pair(stride), pair(self.padding), pair(self.dilation),
                           self.ceil_mode)


class PinnedConv2d(nn.Conv2d):
    """nn.Conv2d (zero padding, one group) computed by _Conv."""

    def forward(self, x):
        padding = tuple(self._reversed_padding_repeated_twice[::-2])  # (h, w) also for padding="same"
        return _Conv.apply(x, self.weight, self.bias, self.stride, padding, self.dilation)


class PinnedLinear(nn.Linear):
    """nn.Linear on 2-d inputs (samples x features) computed by _Linear."""

    def forward(self, x):
        return _Linear.apply(x, self.weight, self.bias)


def pinned(module: nn.Module) -> nn.Module:
    """A copy of `module` whose nn.Conv2d, nn.Linear and nn.MaxPool2d layers are PinnedConv2d,
    PinnedLinear and PinnedMaxPool2d (the same parameters). Refuses a convolution it cannot
    compute so: several groups, a padding mode other than zeros, or asymmetric "same" padding
    (an even kernel)."""
    module = copy.deepcopy(module)
    for name, part in list(module.named_modules()):
        if type(part) is nn.Conv2d:
            pad = part._reversed_padding_repeated_twice
            if part.groups != 1 or part.padding_mode != "zeros" or pad[0::2] != pad[1::2]:
                raise ValueError(f"{name}: groups {part.groups}, padding_mode {part.padding_mode!r}, padding "
                                 f"{part.padding!r}: pinned convolutions take one group and symmetric zero padding")
            part.__class__ = PinnedConv2d
        elif type(part) is nn.Linear:
            part.__class__ = PinnedLinear
        elif type(part) is nn.MaxPool2d:
            part.__class__ = PinnedMaxPool2d
    return module
