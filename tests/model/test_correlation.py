import pytest
import torch

from micro_expression.model.correlation import Correlation, correlation


def _naive_correlation(first, second, patch_size, dilation):
    n, c, h, w = first.shape
    r = patch_size // 2
    out = torch.zeros(n, patch_size * patch_size, h, w)
    for a in range(patch_size):
        for b in range(patch_size):
            dy, dx = (a - r) * dilation, (b - r) * dilation
            for y in range(h):
                for x in range(w):
                    if 0 <= y + dy < h and 0 <= x + dx < w:
                        out[:, a * patch_size + b, y, x] = (
                            first[:, :, y, x] * second[:, :, y + dy, x + dx]
                        ).sum(1) / c
    return out


@pytest.mark.parametrize(("patch_size", "dilation", "size"), [(5, 2, 7), (3, 1, 5), (21, 2, 6)])
def test_correlation_matches_naive_loop(patch_size, dilation, size):
    torch.manual_seed(0)
    first, second = torch.randn(2, 3, size, size), torch.randn(2, 3, size, size)
    torch.testing.assert_close(
        correlation(first, second, patch_size, dilation),
        _naive_correlation(first, second, patch_size, dilation),
    )


def test_correlation_of_shifted_map_peaks_at_the_shift():
    torch.manual_seed(0)
    first = torch.randn(1, 32, 16, 16)
    second = torch.roll(first, shifts=(4, -6), dims=(2, 3))  # content moves 4 down, 6 left
    out = Correlation(21, 2)(first, second)
    assert out.shape == (1, 441, 16, 16)
    peak = out[0, :, 6, 10].argmax().item()  # away from the wrap-around seam
    assert divmod(peak, 21) == (10 + 4 // 2, 10 - 6 // 2)


def test_correlation_is_differentiable():
    first = torch.randn(1, 2, 4, 4, requires_grad=True)
    second = torch.randn(1, 2, 4, 4, requires_grad=True)
    correlation(first, second, 3, 1).sum().backward()
    assert first.grad is not None and second.grad is not None


def test_correlation_rejects_bad_input():
    with pytest.raises(ValueError, match="equal shapes"):
        correlation(torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 5))
    with pytest.raises(ValueError, match="odd"):
        correlation(torch.randn(1, 2, 4, 4), torch.randn(1, 2, 4, 4), patch_size=4)
