import pytest
import torch
import torch.nn.functional as F

from sklattn.nn.transformer import MultiHeadSelfAttention, WindowTransformer, n_patches


def test_sdpa_path_matches_explicit_attention():
    torch.manual_seed(0)
    attention = MultiHeadSelfAttention(16, 4).eval()
    x = torch.randn(3, 7, 16)
    fast, none = attention(x)
    explicit, weights = attention(x, return_attention=True)
    assert none is None
    torch.testing.assert_close(fast, explicit, atol=1e-5, rtol=1e-5)
    assert weights.shape == (3, 4, 7, 7)
    torch.testing.assert_close(weights.sum(-1), torch.ones(3, 4, 7))


def test_queries_keys_values_are_separate_projections():
    attention = MultiHeadSelfAttention(8, 2)
    names = {name for name, _ in attention.named_children()}
    assert {"query", "key", "value", "out"} <= names
    assert attention.query.weight.data_ptr() != attention.key.weight.data_ptr()


def test_fast_path_never_materialises_weights(monkeypatch):
    calls = []
    original = torch.softmax

    def spy(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(torch, "softmax", spy)
    model = WindowTransformer(3, 16, 4, [0, 1, 2], tokens="timestep", d_model=8, n_heads=2,
                              n_layers=2, d_ff=16)
    model(torch.randn(2, 16, 3))
    assert calls == []
    model(torch.randn(2, 16, 3), return_attention=True)
    assert len(calls) == 2  # once per layer
    calls.clear()
    model(torch.randn(2, 16, 3), return_attention=(-1,))
    assert len(calls) == 1  # only the layer asked for


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
def test_named_layers_return_the_same_weights_as_all_layers(tokens):
    torch.manual_seed(0)
    model = WindowTransformer(5, 32, 6, [3, 0], tokens=tokens, d_model=16, n_heads=4,
                              n_layers=3, d_ff=32, patch_len=8, stride=4).eval()
    x = torch.randn(3, 32, 5)
    out, every = model(x, return_attention=True)  # (..., 3 layers, H, N, N)
    for layers in [(0,), (2, 0), (-1,)]:
        out_named, named = model(x, return_attention=layers)
        assert named.shape[-4] == len(layers)
        for k, layer in enumerate(layers):
            torch.testing.assert_close(named.select(-4, k), every.select(-4, layer),
                                       atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(out_named, out, atol=1e-5, rtol=1e-5)
    with pytest.raises(IndexError, match="out of range"):
        model(x, return_attention=(3,))


@pytest.mark.parametrize("tokens", ["timestep", "patch", "variate"])
@pytest.mark.parametrize("targets", [[3, 0], [3, None]])
def test_shapes_gradients_and_weights(tokens, targets):
    torch.manual_seed(0)
    model = WindowTransformer(5, 32, 6, targets, tokens=tokens, d_model=16, n_heads=4,
                              n_layers=2, d_ff=32, patch_len=8, stride=4)
    x = torch.randn(3, 32, 5)
    out = model(x)
    assert out.shape == (3, 6 * 2)
    out.sum().backward()
    model.eval()
    out2, weights = model(x, return_attention=True)
    torch.testing.assert_close(out2, model(x), atol=1e-5, rtol=1e-5)
    tokens_per_seq = {"timestep": 32, "patch": n_patches(32, 8, 4), "variate": 5}[tokens]
    assert weights.shape[-2:] == (tokens_per_seq, tokens_per_seq)
    torch.testing.assert_close(weights.sum(-1), torch.ones_like(weights.sum(-1)))


def test_patches_cover_the_window_with_end_padding():
    assert n_patches(336, 16, 8) == 42  # PatchTST's count for lookback 336
    series = torch.arange(10.0)[None, None]
    patches = F.pad(series, (0, 2), mode="replicate").unfold(-1, 4, 2)
    assert patches.shape[-2] == n_patches(10, 4, 2)


@pytest.mark.parametrize("tokens", ["patch", "variate"])
def test_channel_independent_tokens_forecast_a_target_from_its_own_channel(tokens):
    torch.manual_seed(0)
    model = WindowTransformer(3, 16, 2, [2], tokens=tokens, d_model=8, n_heads=2,
                              n_layers=1, d_ff=8, patch_len=4, stride=4).eval()
    x = torch.randn(2, 16, 3)
    other = x.clone()
    other[..., 0] += 5.0  # patches: a non-target channel cannot reach the target's head
    if tokens == "patch":
        torch.testing.assert_close(model(other), model(x))
    else:  # variates attend across features, so the others do matter
        assert not torch.allclose(model(other), model(x))


def test_attention_dropout_is_its_own_rate(monkeypatch):
    model = WindowTransformer(3, 16, 4, [0, 1, 2], tokens="timestep", d_model=8, n_heads=2,
                              n_layers=2, d_ff=16, dropout=0.5)
    rates = [layer.attention.dropout for layer in model.encoder.layers]
    assert rates == [0.0, 0.0]  # `dropout` acts on the residual branches and the head
    assert {m.p for m in model.modules() if isinstance(m, torch.nn.Dropout)} == {0.5}
    model = WindowTransformer(3, 16, 4, [0, 1, 2], tokens="timestep", d_model=8, n_heads=2,
                              n_layers=2, d_ff=16, dropout=0.5, attention_dropout=0.25)
    seen = []
    original = F.scaled_dot_product_attention

    def spy(*args, **kwargs):
        seen.append(kwargs["dropout_p"])
        return original(*args, **kwargs)

    monkeypatch.setattr(F, "scaled_dot_product_attention", spy)
    model.train()(torch.randn(2, 16, 3))
    model.eval()(torch.randn(2, 16, 3))
    assert seen == [0.25, 0.25, 0.0, 0.0]  # in training only
