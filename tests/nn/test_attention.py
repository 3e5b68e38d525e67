import pytest
import torch

from sklattn.nn.attention import (
    AdditiveScore,
    DotScore,
    GeneralScore,
    attention_pool,
    make_score,
)


def test_dot_score_is_the_inner_product():
    values = torch.randn(2, 5, 3)
    lookup = torch.randn(2, 3)
    expected = (values * lookup[:, None, :]).sum(-1)
    torch.testing.assert_close(DotScore()(values, lookup), expected)


def test_general_score_with_identity_is_dot():
    score = GeneralScore(3)
    with torch.no_grad():
        score.W.weight.copy_(torch.eye(3))
    values, lookup = torch.randn(2, 5, 3), torch.randn(2, 3)
    torch.testing.assert_close(score(values, lookup), DotScore()(values, lookup))


def test_additive_score_matches_its_formula():
    score = AdditiveScore(3, attention_size=4)
    values, lookup = torch.randn(2, 5, 3), torch.randn(2, 3)
    hidden = torch.tanh(values @ score.W1.weight.T + score.W2(lookup)[:, None])
    expected = hidden @ score.q.weight.T
    torch.testing.assert_close(score(values, lookup), expected.squeeze(-1))


def test_pool_weights_sum_to_one_and_context_is_their_average():
    values = torch.randn(4, 6, 3)
    scores = torch.randn(4, 6)
    context, weights = attention_pool(scores, values)
    torch.testing.assert_close(weights.sum(-1), torch.ones(4))
    torch.testing.assert_close(context, (weights[..., None] * values).sum(1))
    # a dominant score picks out its value
    scores[:, 2] = 1e4
    context, _ = attention_pool(scores, values)
    torch.testing.assert_close(context, values[:, 2])


def test_make_score_rejects_unknown_names():
    assert isinstance(make_score("additive", 4), AdditiveScore)
    with pytest.raises(ValueError, match="unknown attention score"):
        make_score("cosine", 4)
