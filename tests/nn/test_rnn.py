import pytest
import torch

from sklattn.nn.rnn import AttentionRNN


@pytest.mark.parametrize("cell", ["lstm", "gru", "rnn"])
@pytest.mark.parametrize("attention", ["dot", "general", "additive", "none"])
@pytest.mark.parametrize("context", ["output", "recurrent"])
def test_forward_shapes_gradients_and_weights(cell, attention, context):
    torch.manual_seed(0)
    module = AttentionRNN(3, 10, cell=cell, hidden_size=8, num_layers=2, dropout=0.1,
                          attention=attention, context=context, position_bias_steps=7)
    x = torch.randn(4, 7, 3)
    out = module(x)
    assert out.shape == (4, 10)
    out.sum().backward()
    assert all(p.grad is not None for p in module.parameters() if p.requires_grad)
    if attention == "none":
        with pytest.raises(ValueError, match="no attention"):
            module(x, return_attention=True)
        return
    module.eval()
    out2, weights = module(x, return_attention=True)
    torch.testing.assert_close(out2, module(x))  # same forecast with or without weights
    assert weights.shape == (4, 7)
    torch.testing.assert_close(weights.sum(1), torch.ones(4))
    assert torch.all(weights[:, -1] == 0)  # the lookup is not in its own pool


def test_output_context_pools_the_states_before_the_last():
    torch.manual_seed(0)
    module = AttentionRNN(2, 1, hidden_size=4, attention="dot").eval()
    x = torch.randn(3, 5, 2)
    states = module.encode(x)
    _, weights = module(x, return_attention=True)
    scores = (states[:, :-1] * states[:, -1:]).sum(-1)
    torch.testing.assert_close(weights[:, :-1], torch.softmax(scores, -1))


def test_recurrent_context_feeds_the_recurrence():
    torch.manual_seed(0)
    module = AttentionRNN(2, 1, hidden_size=4, attention="general", context="recurrent").eval()
    x = torch.randn(3, 6, 2)
    with torch.no_grad():  # as after training: the context's input weights are not zero
        module.cells[0].weight_ih[:, 2:].normal_()
    states = module.encode(x)
    assert states.shape == (3, 6, 4)
    # scaling the step scorer changes the contexts, which exist from step 2 on: only the
    # states from step 3 on (after a context entered the recurrence) may change
    with torch.no_grad():
        module.step_score.W.weight.mul_(5.0)
    changed = module.encode(x)
    torch.testing.assert_close(states[:, :3], changed[:, :3])
    assert not torch.allclose(states[:, 3:], changed[:, 3:])


@pytest.mark.parametrize("segment_len", [1, 2])
def test_recurrent_context_starts_switched_off_and_learns(segment_len):
    torch.manual_seed(0)
    module = AttentionRNN(2, 3, hidden_size=4, attention="additive", context="recurrent",
                          segment_len=segment_len)
    x = torch.randn(5, 8, 2)
    weights = module.cells[0].weight_ih
    n_inputs = 4 if segment_len > 1 else 2  # the embedded segment, or the raw step
    assert weights.shape[1] == n_inputs + 4
    assert torch.all(weights[:, n_inputs:] == 0)
    assert weights[:, :n_inputs].abs().sum() > 0
    # with the context's weights at zero, the contexts cannot change any state
    before = module.encode(x)
    with torch.no_grad():
        module.step_score.W1.weight.mul_(5.0)
    torch.testing.assert_close(module.encode(x), before)
    # ... but they still get a gradient, so training can switch the context on
    module(x).square().sum().backward()
    assert weights.grad[:, n_inputs:].abs().sum() > 0
